// The Raft driver of a manager: it owns the RawNode and keeps the one order that Raft needs for
// every Ready: persist (fsync when asked), send, apply, advance. It applies committed entries to a
// state machine (the store) on every manager alike, serves linearizable reads through read index,
// and tells the manager when it gains or loses leadership.
//
// Its I/O comes in from outside: an opened disk, a transport to the peers, a clock (ticks and
// timeouts) and a random source; start-raft-node.ts wires the real ones, tests in-memory twins.
// Its parts: the members (member-set.ts), proposals waiting to be applied (proposal-queue.ts), reads
// (read-index-waiters.ts, applied-index.ts), applying a Ready (applier.ts), snapshots
// (snapshotter.ts), who leads (leadership.ts), and who was heard from lately (peer-liveness.ts).
import {
  ErrorCode,
  RaftMember,
  ShoalError,
  componentLogger,
  errorMessage,
  type Clock,
  type InternalRaftRequest,
  type Logger,
} from "@shoal/shared";
import {
  RawNode,
  isEmptySnapshot,
  seededRandom,
  type Config,
  type ConfChange,
  type DataKey,
  type Message,
  type RaftDisk,
  type Ready,
} from "@shoal/raft";
import { randomUint } from "../../random-bytes.js";
import { AppliedIndex } from "./applied-index.js";
import { prepareDisk } from "./found-cluster.js";
import { Leadership } from "./leadership.js";
import { Applier } from "./applier.js";
import { MemberSet } from "./member-set.js";
import { NotLeaderError } from "./not-leader-error.js";
import type { PeerReports, PeerTransport } from "./peer-transport.js";
import { PeerLiveness, reachabilityWindowMs } from "./peer-liveness.js";
import { ProposalQueue } from "./proposal-queue.js";
import { toRaftLogger } from "./raft-logger.js";
import type { LinearizableReader, RaftStatus, RaftView } from "./raft-view.js";
import { ReadIndexWaiters } from "./read-index-waiters.js";
import { Snapshotter, type SnapshotPoint } from "./snapshotter.js";
import { Ticker } from "./ticker.js";
import { DEFAULT_ELECTION_TICK, DEFAULT_HEARTBEAT_TICK, type RaftNodeOptions } from "./raft-node-options.js";

export { NotLeaderError } from "./not-leader-error.js";
export type { StateMachine } from "./state-machine.js";
export type { RaftNodeOptions, RaftNodeSettings } from "./raft-node-options.js";

export class RaftNode implements RaftView, LinearizableReader, PeerReports {
  private readonly logger: Logger;
  private readonly disk: RaftDisk;
  private readonly transport: PeerTransport;
  private readonly clock: Clock;
  private readonly timing: { tickMs: number; electionTick: number; heartbeatTick: number };
  private node: RawNode | undefined;
  private readonly members: MemberSet;
  private readonly proposals: ProposalQueue;
  private readonly reads: ReadIndexWaiters;
  private readonly applied = new AppliedIndex();
  private readonly snapshotter: Snapshotter;
  private readonly liveness: PeerLiveness;
  private readonly applier: Applier;
  private ticker: Ticker | undefined;
  private scheduled = false;
  /** The Ready loop while it runs. */
  private loop: Promise<void> | undefined;
  private stopped = false;
  private failed: Error | undefined;
  private readonly leadership: Leadership;
  /** The hard state as last persisted (zeros until this process persisted one). */
  private term = 0;
  private vote = 0;
  private commit = 0;

  constructor(private readonly options: RaftNodeOptions) {
    this.logger = componentLogger(options.logger, "raft", { raftId: options.raftId });
    this.disk = options.disk;
    this.transport = options.transport;
    this.clock = options.clock;
    this.timing = {
      tickMs: options.tickMs ?? 50,
      electionTick: options.electionTick ?? DEFAULT_ELECTION_TICK,
      heartbeatTick: options.heartbeatTick ?? DEFAULT_HEARTBEAT_TICK,
    };
    this.members = new MemberSet(options.raftId, options.transport, this.logger);
    this.proposals = new ProposalQueue({
      logger: this.logger,
      random: options.random,
      submit: (batch) => {
        this.raw().proposeBatch(batch);
        this.schedule();
      },
      submitConfChange: (cc) => {
        this.raw().proposeConfChange(cc);
        this.schedule();
      },
      notLeader: () => new NotLeaderError(this.leaderAddr()),
    });
    this.reads = new ReadIndexWaiters({ clock: options.clock, random: options.random });
    this.snapshotter = new Snapshotter({
      disk: options.disk,
      stateMachine: options.stateMachine,
      logger: this.logger,
      interval: options.snapshotInterval,
      onPrepared: () => this.schedule(),
    });
    this.liveness = new PeerLiveness(options.clock, reachabilityWindowMs(this.timing));
    this.leadership = new Leadership({
      self: options.raftId,
      logger: this.logger,
      clock: options.clock,
      confirm: () => this.linearizableRead(),
      onLost: (err) => this.proposals.rejectAll(err),
      onLeadership: options.onLeadership?.bind(options),
    });
    this.applier = new Applier({
      self: options.raftId,
      logger: this.logger,
      stateMachine: options.stateMachine,
      applied: this.applied,
      members: this.members,
      proposals: this.proposals,
      snapshotter: this.snapshotter,
      liveness: this.liveness,
      onRemoved: options.onRemoved?.bind(options),
    });
  }

  get raftId(): number {
    return this.options.raftId;
  }

  /** Founds or forces a cluster when asked, restores the state machine, then ticks and runs. */
  async start(): Promise<void> {
    if (this.node) throw new ShoalError(ErrorCode.FailedPrecondition, "this raft node was started already");
    const { disk, stateMachine, knownMembers = [] } = this.options;
    const self = RaftMember.create({ raftId: this.raftId, nodeId: this.options.nodeId, addr: this.options.addr });
    const storage = disk.storage;
    const founded = await prepareDisk(disk, self, stateMachine, this.options, this.logger);
    if (this.stopped) return;
    this.members.admittedThrough(knownMembers);
    const snapshot = storage.snapshot();
    if (!isEmptySnapshot(snapshot)) this.applier.installSnapshot(snapshot);
    else this.members.replace(knownMembers);
    const config: Config = {
      id: this.raftId,
      storage,
      electionTick: this.timing.electionTick,
      heartbeatTick: this.timing.heartbeatTick,
      applied: this.applied.value,
      checkQuorum: true,
      preVote: true,
      random: seededRandom(randomUint(this.options.random, 4)),
      logger: toRaftLogger(this.logger),
    };
    const node = this.options.newRawNode ? this.options.newRawNode(config) : new RawNode(config);
    this.node = node;
    // Alone in a group just made (a new cluster, a forced one): lead at once rather than after an
    // election timeout.
    if (founded) node.campaign();
    this.ticker = new Ticker(this.clock, this.timing.tickMs, () => this.safely((n) => n.tick()));
    this.schedule();
  }

  /** Steps a message from a peer; messages from non-members are refused (see member-set.ts). */
  step(m: Message): void {
    if (this.stopped || !this.node || !this.members.accepts(m)) return;
    if (m.from !== this.raftId) this.liveness.heard(m.from);
    this.safely((node) => node.step(m));
  }

  reportUnreachable(raftId: number): void {
    this.safely((node) => node.reportUnreachable(raftId));
  }

  /**
   * The transport found `raftId`'s process gone (connection refused or reset). If it is this
   * follower's leader, the follower forgets it (so it grants pre-votes at once, see the raft
   * package's MsgForgetLeader) and campaigns after a short delay, unless an election began
   * meanwhile: a SIGKILLed leader is replaced in a few round trips, not after an election timeout.
   * The delay, by rank, keeps the followers that saw the same failure from splitting the vote;
   * pre-vote keeps a follower that alone lost its connection from disturbing a leader the others
   * still hear.
   */
  reportPeerGone(raftId: number): void {
    const status = this.node?.basicStatus();
    if (this.stopped || status === undefined) return;
    const { softState: soft, hardState: hard } = status;
    if (soft.role !== "follower" || soft.lead !== raftId) return;
    this.safely((node) => node.forgetLeader());
    // Staggered by rank among the members left (lowest raft id first), plus a little jitter: two
    // followers that campaign at once split the vote and wait out an election timeout.
    const rank = this.members
      .list()
      .map((m) => m.raftId)
      .filter((id) => id !== raftId && id < this.raftId).length;
    const delayMs = rank * 3 * this.timing.tickMs + (randomUint(this.options.random, 2) % this.timing.tickMs) + 1;
    this.clock.setTimeout(() => {
      // Not if an election began meanwhile (a later term: another follower campaigned first).
      const now = this.node?.basicStatus();
      if (now?.softState.role !== "follower" || now.softState.lead !== 0 || now.hardState.term !== hard.term) return;
      this.safely((node) => node.campaign());
    }, delayMs);
  }

  reportSnapshot(raftId: number, delivered: boolean): void {
    this.safely((node) => node.reportSnapshot(raftId, delivered ? "finish" : "failure"));
  }

  /** Proposes a request; resolves with its log index once it is committed and applied here. */
  propose(
    actions: InternalRaftRequest["actions"],
    signal?: AbortSignal,
    audit?: InternalRaftRequest["audit"],
  ): Promise<number> {
    this.assertUsable();
    if (!this.isLeader) return Promise.reject(new NotLeaderError(this.leaderAddr()));
    return this.proposals.propose(actions, signal, audit);
  }

  /** Resolves once this manager has applied everything committed before the call (read index). */
  async linearizableRead(signal?: AbortSignal): Promise<void> {
    this.assertUsable();
    const index = await this.reads.wait((ctx) => this.safely((node) => node.readIndex(ctx)), signal);
    await this.applied.wait(index);
  }

  /** Resolves once the entry at `index` has been applied here. */
  waitApplied(index: number): Promise<void> {
    return this.applied.wait(index);
  }

  /** Adds or removes a member; resolves when the change is applied. One change at a time. */
  changeMembership(cc: ConfChange): Promise<number> {
    this.assertUsable();
    if (!this.isLeader) return Promise.reject(new NotLeaderError(this.leaderAddr()));
    return this.proposals.changeMembership(cc);
  }

  /** Hands leadership to the most up-to-date other member and waits (up to `timeoutMs`) for it. */
  async transferLeadership(timeoutMs = 2000): Promise<boolean> {
    if (!this.node || !this.isLeader || this.members.size < 2) return false;
    return this.leadership.transfer(this.node, timeoutMs, () => this.schedule());
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  get leaderId(): number {
    return this.leadership.leader;
  }

  leaderAddr(): string | undefined {
    const leader = this.leadership.leader;
    return leader === 0 ? undefined : this.members.get(leader)?.addr;
  }

  /** Whether this node still hears the members that admitted it (its own admission is not applied yet). */
  get admitting(): boolean {
    return this.members.admitting;
  }

  memberList(): RaftMember[] {
    return this.members.list();
  }

  status(): RaftStatus {
    if (!this.node) throw new ShoalError(ErrorCode.Unavailable, "this manager is still starting");
    const st = this.node.status();
    const { term, commit } = st.hardState;
    const progress = this.liveness.statuses(st.progress, this.raftId);
    return { term, commit, applied: this.applied.value, leader: this.leadership.leader, progress };
  }

  /** Peers no longer in the group stop receiving messages. */
  removeStalePeers(): void {
    this.members.removeStale(this.applier.confState.voters);
  }

  /**
   * Seal new writes with `key` (a new segment of the log), then take a snapshot at once, which
   * replaces the data under the older keys (see openRaftDisk).
   */
  async rotateDataKey(key: DataKey): Promise<void> {
    await this.disk.rotateKey(key);
    this.snapshotter.requestSoon();
    this.schedule();
  }

  /** Stops ticking and talking; waits for the Ready loop, then closes the disk. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.leadership.stop();
    this.ticker?.stop();
    this.closeWaiters(new ShoalError(ErrorCode.Unavailable, "this manager is stopping"));
    this.transport.close();
    await this.loop;
    await this.disk.close();
  }

  private raw(): RawNode {
    this.assertUsable();
    return this.node as RawNode;
  }

  private assertUsable(): void {
    if (this.failed) throw new ShoalError(ErrorCode.Internal, `raft node failed: ${this.failed.message}`);
    if (this.stopped) throw new ShoalError(ErrorCode.Unavailable, "this manager is stopping");
    if (!this.node) throw new ShoalError(ErrorCode.Unavailable, "this manager is still starting");
  }

  private safely(fn: (node: RawNode) => void): void {
    if (this.stopped || this.failed || !this.node) return;
    try {
      fn(this.node);
    } catch (err: unknown) {
      // A message from a removed or unknown peer and the like: log it, keep going.
      this.logger.debug({ err: errorMessage(err) }, "raft step refused");
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // A loop that runs reschedules itself when it ends with work left.
      if (this.loop || this.stopped || this.failed || !this.node) return;
      this.loop = this.processReady(this.node).finally(() => {
        this.loop = undefined;
      });
    });
  }

  /** Handles every Ready there is, each in the one order: persist, send, apply, advance. */
  private async processReady(node: RawNode): Promise<void> {
    try {
      if (this.snapshotter.hasWork) await this.snapshotter.run(this.snapshotPoint());
      while (!this.stopped && node.hasReady()) {
        const rd = node.ready();
        const early = this.mayAppendInParallel(rd);
        if (early) this.transport.send(rd.messages);
        await this.disk.persist({
          hardState: rd.hardState,
          entries: rd.entries,
          snapshot: rd.snapshot,
          mustSync: rd.mustSync,
        });
        if (rd.hardState) ({ term: this.term, vote: this.vote, commit: this.commit } = rd.hardState);
        if (rd.softState) this.leadership.update(rd.softState.lead, rd.softState.role === "leader", this.term);
        if (!early) this.transport.send(rd.messages);
        if (rd.snapshot && !isEmptySnapshot(rd.snapshot)) this.applier.installSnapshot(rd.snapshot);
        this.applier.applyEntries(node, rd.committedEntries);
        this.reads.answer(rd.readStates);
        node.advance(rd);
        await this.snapshotter.run(this.snapshotPoint());
      }
    } catch (err: unknown) {
      // A failed write leaves us unsure of what is durable: stop taking part rather than risk safety.
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.logger.fatal({ err: errorMessage(err) }, "raft node failed; stopping it");
      this.closeWaiters(new ShoalError(ErrorCode.Internal, `raft node failed: ${this.failed.message}`));
    }
    if (!this.stopped && !this.failed && (node.hasReady() || this.snapshotter.hasPrepared)) this.schedule();
  }

  /**
   * Whether a leader may send this Ready's messages while it writes the Ready's entries itself
   * (Raft thesis 10.2.1, and etcd's raft): the followers then write the same entries at the same
   * time as the leader instead of after it. It is safe because nothing of this Ready can be known
   * committed before it is durable here: the leader learns of a commit from the followers' answers,
   * and the next Ready, which would apply it or tell anyone of it, comes only after this one's
   * write. Never when the term or vote changes (a vote must be durable before anyone hears of it),
   * nor for a snapshot, nor off the leader (a follower's answer says its entries are durable), nor
   * when the commit index already covers an entry of this Ready (a group of one voter commits its
   * own entries at once, and a message would carry that commit).
   */
  private mayAppendInParallel(rd: Ready): boolean {
    if (rd.snapshot !== undefined || rd.messages.length === 0) return false;
    const leads = rd.softState ? rd.softState.role === "leader" : this.leadership.isLeader;
    if (!leads) return false;
    const hs = rd.hardState ?? { term: this.term, vote: this.vote, commit: this.commit };
    if (hs.term !== this.term || hs.vote !== this.vote) return false;
    const first = rd.entries[0];
    return first === undefined || hs.commit < first.index;
  }

  private snapshotPoint(): SnapshotPoint {
    const confState = this.applier.confState;
    return { applied: this.applied.value, confState, members: () => this.members.list() };
  }

  private closeWaiters(err: Error): void {
    this.proposals.close(err);
    this.reads.rejectAll(err);
    this.applied.close(err);
  }
}
