// An in-memory cluster of RawNodes for tests: each node has a MemoryStorage that only receives what its
// Ready asked to persist (so a crash and restart loses exactly the volatile state), a toy state machine,
// and a driver that handles Readies in the documented order. The network queues messages and can drop,
// hold back (delay), duplicate and reorder them, cut links and isolate nodes.
import {
  decodeConfChange,
  MemoryStorage,
  RawNode,
  type Config,
  type ConfState,
  type Entry,
  type Message,
  type ReadState,
  type Ready,
  type Snapshot,
} from "../../src/index.js";
import { bytesToString, chainHash, stringToBytes } from "./hash.js";
import { Prng } from "./prng.js";
import { entryKey, SafetyChecker, type CheckedNode } from "./safety-checker.js";

export class SimNode implements CheckedNode {
  readonly id: number;
  readonly storage: MemoryStorage;
  node: RawNode | undefined;
  incarnation = 0;
  // Test metadata that lives with the storage (survives crashes).
  chain: number[] = [0];
  snapshotIndex = 0;
  // Volatile state machine.
  applied = 0;
  state = 0;
  /** Data of the normal, non-empty entries applied, in order. */
  items: string[] = [];
  confState: ConfState;
  readStates: ReadState[] = [];
  /** For a founding member of a cluster bootstrapped through the log: the founders. */
  founders: number[] | undefined = undefined;

  constructor(id: number, storage: MemoryStorage) {
    this.id = id;
    this.storage = storage;
    this.confState = storage.initialState().confState;
  }

  get alive(): boolean {
    return this.node !== undefined;
  }

  /** The RawNode, which must be running. */
  get raw(): RawNode {
    if (this.node === undefined) throw new Error(`node ${this.id} is down`);
    return this.node;
  }

  /** Reload the state machine from the persisted snapshot (what a restarted process does). */
  loadFromStorage(): void {
    const snap = this.storage.snapshot();
    this.confState = this.storage.initialState().confState;
    this.restoreState(snap);
  }

  restoreState(snap: Snapshot): void {
    this.applied = snap.metadata.index;
    if (snap.data.byteLength === 0) {
      this.state = 0;
      this.items = [];
    } else {
      const decoded = JSON.parse(bytesToString(snap.data)) as { state: number; items: string[] };
      this.state = decoded.state;
      this.items = decoded.items;
    }
  }

  snapshotData(): Uint8Array {
    return stringToBytes(JSON.stringify({ state: this.state, items: this.items }));
  }
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  if (m.type === "MsgApp" || m.type === "MsgVote" || m.type === "MsgPreVote") s += ` logTerm=${m.logTerm}`;
  if (m.type === "MsgApp" || m.type === "MsgAppResp" || m.type.startsWith("MsgVote") || m.type.startsWith("MsgPre")) {
    s += ` index=${m.index}`;
  }
  if (m.type === "MsgApp" || m.type === "MsgHeartbeat") s += ` commit=${m.commit}`;
  if (m.entries.length > 0) s += ` entries=[${m.entries.map((e) => `${e.term}/${e.index}`).join(",")}]`;
  if (m.reject) s += ` reject hint=${m.rejectHint}/${m.logTerm}`;
  if (m.snapshot !== undefined) s += ` snap=${m.snapshot.metadata.term}/${m.snapshot.metadata.index}`;
  return s;
}

export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState !== undefined) parts.push(`soft=${rd.softState.role}/lead${rd.softState.lead}`);
  if (rd.hardState !== undefined) {
    parts.push(`hard=term${rd.hardState.term}/vote${rd.hardState.vote}/commit${rd.hardState.commit}`);
  }
  if (rd.snapshot !== undefined) parts.push(`snap=${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`);
  if (rd.entries.length > 0) parts.push(`entries=[${rd.entries.map((e) => `${e.term}/${e.index}`).join(",")}]`);
  if (rd.committedEntries.length > 0) {
    parts.push(`apply=[${rd.committedEntries.map((e) => `${e.term}/${e.index}`).join(",")}]`);
  }
  if (rd.messages.length > 0) parts.push(`msgs=${rd.messages.length}`);
  return parts.join(" ");
}

export interface Envelope {
  msg: Message;
  /** Time (in ticks) from which the message may be delivered. */
  at: number;
}

export interface NetworkOptions {
  ids: readonly number[];
  seed?: number;
  electionTick?: number;
  heartbeatTick?: number;
  /** Extra Raft settings for every node. */
  config?: Partial<Omit<Config, "id" | "storage" | "random">>;
  /** Start with the configuration in the storage (default) or through RawNode.bootstrap. */
  bootstrap?: "storage" | "log";
  checker?: SafetyChecker;
}

export class Network {
  readonly nodes = new Map<number, SimNode>();
  /** Messages sent and not yet delivered, in sending order. */
  queue: Envelope[] = [];
  /** Messages held back by hold(), delivered by release(). */
  held: Envelope[] = [];
  readonly checker: SafetyChecker;
  readonly rng: Prng;
  private readonly options: NetworkOptions;
  private readonly cut = new Set<string>();
  private readonly isolated = new Set<number>();
  /** Messages for which this returns true are dropped when sent. */
  dropIf: ((m: Message) => boolean) | undefined = undefined;
  /** Messages for which this returns true are held back when sent. */
  holdIf: ((m: Message) => boolean) | undefined = undefined;
  delivered = 0;
  dropped = 0;
  /** Logical time: the number of advance() calls. */
  now = 0;
  /** Each message takes 0 to maxLatency ticks to arrive (only advance() looks at arrival times). */
  maxLatency = 0;
  /** Probability that a sent message is lost. */
  lossRate = 0;
  /** Probability that a sent message arrives twice. */
  duplicateRate = 0;
  /** Whether messages due at the same time arrive in random order. */
  reorder = false;
  /** Receives a line per event when set (for debugging a schedule). */
  trace: ((line: string) => void) | undefined = undefined;

  constructor(options: NetworkOptions) {
    this.options = options;
    this.rng = new Prng(options.seed ?? 1);
    this.checker = options.checker ?? new SafetyChecker();
    const voters = [...options.ids];
    for (const id of options.ids) {
      const storage = new MemoryStorage(options.bootstrap === "log" ? {} : { confState: { voters } });
      const sim = new SimNode(id, storage);
      sim.founders = options.bootstrap === "log" ? voters : undefined;
      this.nodes.set(id, sim);
      this.start(sim);
    }
  }

  /** Add a node with empty storage that is not a member yet (it will learn the log from the leader). */
  addEmptyNode(id: number): SimNode {
    const sim = new SimNode(id, new MemoryStorage());
    this.nodes.set(id, sim);
    this.start(sim);
    return sim;
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  get ids(): number[] {
    return [...this.nodes.keys()];
  }

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  private start(sim: SimNode): void {
    sim.incarnation++;
    sim.loadFromStorage();
    sim.node = new RawNode({
      id: sim.id,
      storage: sim.storage,
      electionTick: this.options.electionTick ?? 10,
      heartbeatTick: this.options.heartbeatTick ?? 1,
      ...this.options.config,
      // The state machine restarts from the snapshot; the log may keep entries before it.
      applied: sim.applied,
      random: new Prng((this.options.seed ?? 1) * 7919 + sim.id * 104729 + sim.incarnation).source(),
    });
    // A founder that has not persisted its bootstrap entries yet (new, or crashed before its first Ready
    // was handled) bootstraps again, as the manager does when it finds no log.
    if (sim.founders !== undefined && sim.storage.lastIndex() === 0) sim.node.bootstrap(sim.founders);
  }

  // ------------------------------------------------------------------------------------------------
  // Faults

  crash(id: number): void {
    this.trace?.(`crash ${id}`);
    this.node(id).node = undefined;
  }

  restart(id: number): void {
    const sim = this.node(id);
    if (sim.alive) return;
    this.trace?.(`restart ${id}`);
    this.start(sim);
  }

  /** Cut the link between a and b in both directions. */
  cutLink(a: number, b: number): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  isolate(id: number): void {
    this.isolated.add(id);
  }

  /** Split the cluster: nodes in different groups cannot talk. */
  partition(...groups: number[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] ?? []) for (const b of groups[j] ?? []) this.cutLink(a, b);
      }
    }
  }

  /** Restore every link (held messages stay held until release()). */
  heal(): void {
    this.cut.clear();
    this.isolated.clear();
  }

  canTalk(from: number, to: number): boolean {
    return !this.isolated.has(from) && !this.isolated.has(to) && !this.cut.has(`${from}-${to}`);
  }

  /** Move held messages back to the queue (they arrive late, after whatever was sent meanwhile). */
  release(): void {
    for (const env of this.held) this.queue.push({ msg: env.msg, at: this.now });
    this.held = [];
  }

  // ------------------------------------------------------------------------------------------------
  // Driving

  tick(id: number): void {
    const sim = this.node(id);
    if (!sim.alive) return;
    sim.raw.tick();
    this.process(id);
  }

  tickAll(): void {
    for (const sim of this.nodes.values()) if (sim.alive) sim.raw.tick();
    this.processAll();
  }

  /** Propose on a node; returns false when the proposal was refused. */
  propose(id: number, data: string): boolean {
    const sim = this.node(id);
    if (!sim.alive) return false;
    try {
      sim.raw.propose(stringToBytes(data));
    } catch (err: unknown) {
      if (err instanceof Error && "code" in err && err.code === "ERR_RAFT_PROPOSAL_DROPPED") return false;
      throw err;
    }
    this.process(id);
    return true;
  }

  /** Request a linearizable read on a node; returns false when refused (no leader known). */
  readIndex(id: number, ctx: string): boolean {
    const sim = this.node(id);
    if (!sim.alive) return false;
    this.checker.readRequested(ctx);
    try {
      sim.raw.readIndex(stringToBytes(ctx));
    } catch (err: unknown) {
      if (err instanceof Error && "code" in err && err.code === "ERR_RAFT_PROPOSAL_DROPPED") return false;
      throw err;
    }
    this.process(id);
    return true;
  }

  processAll(): void {
    for (const id of this.nodes.keys()) this.process(id);
  }

  /** Handle a node's Readies, as the manager's driver does: persist, send, apply, advance. */
  process(id: number): void {
    const sim = this.node(id);
    for (;;) {
      const rn = sim.node;
      if (rn === undefined || !rn.hasReady()) return;
      this.handleReady(sim, rn, rn.ready());
    }
  }

  private handleReady(sim: SimNode, rn: RawNode, rd: Ready): void {
    const checker = this.checker;
    if (this.trace !== undefined) this.trace(`ready ${sim.id}: ${describeReady(rd)}`);
    // 1. Persist.
    if (rd.snapshot !== undefined) {
      sim.storage.applySnapshot(rd.snapshot);
      checker.snapshotPersisted(sim, rd.snapshot);
    }
    if (rd.entries.length > 0) {
      sim.storage.append(rd.entries);
      checker.entriesPersisted(sim, rd.entries);
    }
    if (rd.hardState !== undefined) sim.storage.setHardState(rd.hardState);
    if (rd.softState?.role === "leader") {
      const st = rn.basicStatus();
      checker.leaderElected(sim.id, st.hardState.term);
      checker.checkLeaderCompleteness(sim, sim.storage.lastIndex());
    }
    // 2. Send.
    for (const m of rd.messages) this.send(m);
    // 3. Apply.
    if (rd.snapshot !== undefined) {
      sim.restoreState(rd.snapshot);
      sim.confState = rd.snapshot.metadata.confState;
      checker.snapshotApplied(sim, sim.applied, sim.state);
    }
    for (const e of rd.committedEntries) this.apply(sim, rn, e);
    for (const rs of rd.readStates) checker.readAnswered(sim, bytesToString(rs.requestCtx), rs.index);
    sim.readStates.push(...rd.readStates);
    // 4. Advance.
    rn.advance(rd);
  }

  private apply(sim: SimNode, rn: RawNode, e: Entry): void {
    if (e.index !== sim.applied + 1) {
      this.checker.fail(`node ${sim.id} applies entry ${e.index} after ${sim.applied}`);
    }
    if (e.type === "confChange") {
      sim.confState = rn.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.byteLength > 0) {
      sim.items.push(bytesToString(e.data));
    }
    sim.state = chainHash(sim.state, entryKey(e));
    sim.applied = e.index;
    this.checker.applied(sim, e, sim.state);
  }

  /** Take a snapshot of the node's state machine at its applied index and compact the log up to it,
   *  keeping `keep` entries before it. */
  compact(id: number, keep = 0): boolean {
    const sim = this.node(id);
    if (sim.applied <= sim.storage.snapshot().metadata.index) return false;
    sim.storage.createSnapshot(sim.applied, sim.confState, sim.snapshotData());
    const upTo = sim.applied - keep;
    if (upTo >= sim.storage.firstIndex()) sim.storage.compact(upTo);
    return true;
  }

  send(m: Message): void {
    const env: Envelope = { msg: m, at: this.arrival() };
    if (this.dropIf?.(m) === true || (this.lossRate > 0 && this.rng.chance(this.lossRate))) {
      this.drop(env, false);
      return;
    }
    if (this.holdIf?.(m) === true) {
      this.held.push(env);
      return;
    }
    this.queue.push(env);
    if (this.duplicateRate > 0 && this.rng.chance(this.duplicateRate)) this.queue.push({ msg: m, at: this.arrival() });
  }

  private arrival(): number {
    return this.maxLatency > 0 ? this.now + this.rng.int(this.maxLatency + 1) : this.now;
  }

  /** One unit of time: every live node ticks (unless `only` says otherwise), then the messages due
   *  arrive (and whatever they trigger, when due too). */
  advance(only?: (id: number) => boolean): void {
    this.now++;
    for (const sim of this.nodes.values()) {
      if (sim.node !== undefined && (only === undefined || only(sim.id))) sim.node.tick();
    }
    this.processAll();
    this.deliverDue();
  }

  /** Deliver every message whose arrival time has come, in sending order or shuffled (reorder). */
  deliverDue(): void {
    for (;;) {
      let due = -1;
      let seen = 0;
      for (let i = 0; i < this.queue.length; i++) {
        if ((this.queue[i] as Envelope).at > this.now) continue;
        if (due < 0) due = i;
        if (!this.reorder) break;
        // Reservoir sampling: pick one of the due messages uniformly.
        seen++;
        if (this.rng.int(seen) === 0) due = i;
      }
      if (due < 0) return;
      this.deliverAt(due);
    }
  }

  /** Deliver the queued message at position i (default: the oldest). */
  deliverAt(i = 0): void {
    const env = this.queue[i];
    if (env === undefined) return;
    this.queue.splice(i, 1);
    this.deliver(env);
  }

  /** Drop the queued message at position i, as a lossy link would. */
  dropAt(i: number): void {
    const env = this.queue[i];
    if (env === undefined) return;
    this.queue.splice(i, 1);
    this.drop(env, false);
  }

  /** Queue a second copy of the message at position i, at a random later position. */
  duplicateAt(i: number): void {
    const env = this.queue[i];
    if (env === undefined) return;
    const at = i + 1 + this.rng.int(this.queue.length - i);
    this.queue.splice(at, 0, { msg: env.msg, at: env.at });
  }

  private deliver(env: Envelope): void {
    const m = env.msg;
    const target = this.nodes.get(m.to);
    if (target?.node === undefined || !this.canTalk(m.from, m.to)) {
      this.drop(env, true);
      return;
    }
    this.delivered++;
    this.trace?.(`deliver ${describeMessage(m)}`);
    try {
      target.node.step(m);
    } catch (err: unknown) {
      // A node that is not (or no longer) a member gets responses from peers it does not know.
      if (!(err instanceof Error && "code" in err && err.code === "ERR_RAFT_STEP_PEER_NOT_FOUND")) throw err;
    }
    this.process(m.to);
    if (m.type === "MsgSnap") this.reportToSender(m, "finish");
  }

  private drop(env: Envelope, unreachable: boolean): void {
    this.dropped++;
    const m = env.msg;
    this.trace?.(`drop ${describeMessage(m)}`);
    // A real transport notices a failed snapshot stream and, for a broken link, an unreachable peer.
    if (m.type === "MsgSnap") this.reportToSender(m, "failure");
    else if (unreachable) {
      const sender = this.nodes.get(m.from)?.node;
      if (sender !== undefined) {
        sender.reportUnreachable(m.to);
        this.process(m.from);
      }
    }
  }

  private reportToSender(m: Message, status: "finish" | "failure"): void {
    const sender = this.nodes.get(m.from)?.node;
    if (sender === undefined) return;
    sender.reportSnapshot(m.to, status);
    this.process(m.from);
  }

  /** Deliver queued messages (and whatever they cause) until the queue is empty or `limit` deliveries. */
  deliverAll(limit = 100_000): void {
    this.processAll();
    let n = 0;
    while (this.queue.length > 0 && n < limit) {
      this.deliverAt(0);
      n++;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Observation

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    return this.leaderAmong(this.nodes.values());
  }

  leaderAmong(nodes: Iterable<SimNode>): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const sim of nodes) {
      if (sim.node === undefined) continue;
      const st = sim.node.basicStatus();
      if (st.softState.role === "leader" && st.hardState.term > bestTerm) {
        best = sim;
        bestTerm = st.hardState.term;
      }
    }
    return best;
  }

  /** Tick everyone and deliver everything, up to maxTicks times, until one of `among` (default: the live
   *  nodes) leads and all of them know it. Returns that leader's id. */
  electLeader(maxTicks = 200, among?: readonly number[]): number {
    const group = () => (among === undefined ? this.liveNodes() : among.map((id) => this.node(id)));
    for (let i = 0; i < maxTicks; i++) {
      this.deliverAll();
      const lead = this.leaderAmong(group());
      if (lead !== undefined) {
        const term = lead.raw.basicStatus().hardState.term;
        const agreed = group().every((n) => {
          const st = n.raw.basicStatus();
          return st.softState.lead === lead.id && st.hardState.term === term;
        });
        if (agreed) return lead.id;
      }
      this.tickAll();
    }
    throw new Error("no leader elected");
  }
}
