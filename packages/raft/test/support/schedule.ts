// One randomized schedule: a cluster of 3 or 5 nodes under proposals, crashes and restarts, partitions,
// message loss, duplication and reordering, log compaction, leadership transfers and (in clusters
// bootstrapped through the log) membership changes, with the safety properties checked after every event
// (by the SafetyChecker hooked into every Ready) and liveness checked at the end: once everything heals,
// a leader is elected and a last proposal reaches every member.
import { Network } from "./network.js";
import { Prng } from "./prng.js";

export interface ScheduleResult {
  seed: number;
  nodes: number;
  steps: number;
  leadersElected: number;
  maxApplied: number;
  delivered: number;
  confChanges: number;
  readsAnswered: number;
}

export interface ScheduleOptions {
  /** Events before healing. */
  steps?: number;
  trace?: (line: string) => void;
}

export function runSchedule(seed: number, options: ScheduleOptions = {}): ScheduleResult {
  const rng = new Prng(seed);
  const n = rng.chance(0.5) ? 3 : 5;
  const founders = Array.from({ length: n }, (_, i) => i + 1);
  const bootstrap = rng.chance(0.5) ? "log" : "storage";
  const net = new Network({
    ids: founders,
    seed,
    electionTick: rng.pick([5, 10]),
    heartbeatTick: 1,
    bootstrap,
    config: {
      preVote: rng.chance(0.5),
      checkQuorum: rng.chance(0.5),
      maxSizePerMsg: rng.pick([1, 64, 1024]),
      maxInflightMsgs: rng.pick([1, 2, 8]),
      maxInflightBytes: rng.pick([0, 0, 2048]),
      maxCommittedSizePerReady: rng.pick([Number.MAX_SAFE_INTEGER, 64]),
    },
  });
  if (options.trace !== undefined) net.trace = options.trace;
  const steps = options.steps ?? rng.range(200, 600);
  let proposals = 0;
  // Per-schedule settings make some schedules calm and others hostile.
  net.maxLatency = rng.pick([0, 1, 3]);
  net.reorder = rng.chance(0.7);
  net.lossRate = rng.pick([0, 0, 0.01, 0.05, 0.2]);
  net.duplicateRate = rng.pick([0, 0.01, 0.05]);
  const pCrash = rng.pick([0, 0.01, 0.03, 0.08]);
  const pPartition = rng.pick([0, 0.01, 0.03, 0.08]);
  const pCompact = rng.pick([0.01, 0.05]);
  const pDrift = rng.pick([0, 0.2]);
  // Joiners must learn the founders from the log: membership changes need a log-bootstrapped cluster.
  const pMembership = bootstrap === "log" ? rng.pick([0, 0.02, 0.05]) : 0;
  let nextId = n + 1;
  let confChanges = 0;

  for (let step = 0; step < steps; step++) {
    const r = rng.next();
    const live = net.liveNodes();
    const ids = net.ids;
    if (r < 0.5) {
      // Time passes; with drift, some clocks miss the tick.
      net.advance(pDrift > 0 ? () => !rng.chance(pDrift) : undefined);
      continue;
    }
    const f = rng.next();
    if (f < 0.45) {
      if (live.length > 0) {
        const target = rng.chance(0.8) ? (net.leader()?.id ?? rng.pick(ids)) : rng.pick(ids);
        const batch = rng.range(1, 3);
        for (let i = 0; i < batch; i++) net.propose(target, `s${seed}-p${proposals++}`);
      }
    } else if (f < 0.45 + pCompact) {
      const id = rng.pick(ids);
      if (net.node(id).alive) net.compact(id, rng.pick([0, 0, 2, 5]));
    } else if (f < 0.5 + pCompact) {
      // Deliver one queued message early, out of order.
      if (net.queue.length > 0) net.deliverAt(rng.int(net.queue.length));
    } else if (f < 0.55 + pCompact) {
      if (net.queue.length > 0 && rng.chance(net.lossRate * 5)) net.dropAt(rng.int(net.queue.length));
    } else if (f < 0.55 + pCompact + pCrash) {
      // Leaders are the interesting victims.
      net.crash(rng.chance(0.5) ? (net.leader()?.id ?? rng.pick(ids)) : rng.pick(ids));
    } else if (f < 0.6 + pCompact + pCrash) {
      const down = ids.filter((id) => !net.node(id).alive);
      if (down.length > 0) net.restart(rng.pick(down));
    } else if (f < 0.6 + pCompact + pCrash + pPartition) {
      net.heal();
      const shuffled = rng.shuffle(ids);
      const cutAt = rng.range(1, ids.length - 1);
      net.partition(shuffled.slice(0, cutAt), shuffled.slice(cutAt));
    } else if (f < 0.65 + pCompact + pCrash + pPartition) {
      if (rng.chance(0.5)) net.heal();
      else net.isolate(rng.chance(0.5) ? (net.leader()?.id ?? rng.pick(ids)) : rng.pick(ids));
    } else if (f < 0.68 + pCompact + pCrash + pPartition) {
      const lead = net.leader();
      if (lead !== undefined) {
        lead.raw.transferLeader(rng.pick(ids));
        net.process(lead.id);
      }
    } else if (f < 0.72 + pCompact + pCrash + pPartition) {
      const id = rng.pick(ids);
      net.readIndex(id, `n${id}-r${step}`);
    } else if (f < 0.75 + pCompact + pCrash + pPartition) {
      net.release(); // held messages arrive late
    } else if (f < 0.78 + pCompact + pCrash + pPartition) {
      // Hold back one message type for a while (a long delay).
      const type = rng.pick(["MsgApp", "MsgAppResp", "MsgHeartbeat", "MsgVote", "MsgSnap", "MsgPreVoteResp"]);
      net.holdIf = rng.chance(0.5) ? (m) => m.type === type : undefined;
    } else if (f < 0.78 + pCompact + pCrash + pPartition + pMembership) {
      if (changeMembership()) confChanges++;
    } else {
      net.advance();
    }
  }

  /** Propose adding a fresh node or removing a member, keeping 3 to 5 voters. */
  function changeMembership(): boolean {
    const lead = net.leader();
    if (lead === undefined) return false;
    const members = lead.confState.voters;
    const add = members.length < 5 && (members.length === 3 || rng.chance(0.5));
    // Removed ids are never reused: a node that comes back with an old identity is a different problem.
    const nodeId = add ? nextId : rng.pick(members);
    try {
      lead.raw.proposeConfChange({ type: add ? "addNode" : "removeNode", nodeId, context: new Uint8Array(0) });
    } catch (err: unknown) {
      if (err instanceof Error && "code" in err && err.code === "ERR_RAFT_PROPOSAL_DROPPED") return false;
      throw err;
    }
    if (add) {
      net.addEmptyNode(nextId);
      nextId++;
    }
    net.process(lead.id);
    return true;
  }

  // Liveness: heal everything, restart everyone, stop losing messages.
  net.heal();
  net.holdIf = undefined;
  net.lossRate = 0;
  net.release();
  for (const id of net.ids) net.restart(id);
  const final = `s${seed}-final`;
  let proposedAt = -1;
  for (let i = 0; i < 600; i++) {
    const leader = net.leader();
    // Re-propose if a leader change lost the proposal.
    if (leader !== undefined && (proposedAt < 0 || i - proposedAt > 50)) {
      if (net.propose(leader.id, final)) proposedAt = i;
    }
    net.deliverAll();
    // Every member of the configuration the leader applied (the final entry comes after any change).
    const members = leader?.confState.voters ?? [];
    if (proposedAt >= 0 && members.length > 0 && members.every((id) => net.node(id).items.includes(final))) {
      return {
        seed,
        nodes: n,
        steps,
        leadersElected: net.checker.leadersElected,
        maxApplied: net.checker.maxApplied,
        delivered: net.delivered,
        confChanges,
        readsAnswered: net.checker.readsAnswered,
      };
    }
    net.tickAll();
  }
  const status = net.ids.map((id) => {
    const st = net.node(id).raw.status();
    return (
      `${id}: ${st.softState.role} term=${st.hardState.term} lead=${st.softState.lead} ` +
      `commit=${st.hardState.commit} applied=${st.applied} voters=${st.config.voters.join(",")}`
    );
  });
  throw new Error(`liveness: the final proposal did not reach every member after healing\n${status.join("\n")}`);
}
