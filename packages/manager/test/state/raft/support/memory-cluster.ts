// Several RaftNodes in one process over in-memory twins: a MemoryRaftDisk each, one MemoryNetwork,
// one ManualClock. Time moves only when a test ticks it; between ticks, settle() lets the event loop
// run the nodes' Ready loops and the network's deliveries until they are quiet.
import { ManualClock, RaftMember, silentLogger } from "@shoal/shared";
import { MemoryRaftDisk, RawNode, type Config, type Message } from "@shoal/raft";
import { MemoryNetwork } from "../../../../src/state/raft/memory-network.js";
import { RaftNode, type RaftNodeSettings } from "../../../../src/state/raft/raft-node.js";
import { seededRandomBytes } from "../../../../src/random-bytes.js";
import { TestStateMachine, member } from "./test-state-machine.js";

export { TestStateMachine, member } from "./test-state-machine.js";

export const TICK_MS = 50;
export const ELECTION_TICK = 10;

export interface TestNode {
  readonly id: number;
  readonly raft: RaftNode;
  readonly disk: MemoryRaftDisk;
  readonly sm: TestStateMachine;
  /** Every onLeadership call, in order. */
  readonly leadership: boolean[];
}

export interface StartOptions {
  readonly bootstrap?: boolean;
  readonly forceNewCluster?: boolean;
  readonly knownMembers?: readonly RaftMember[];
  readonly disk?: MemoryRaftDisk;
  /** Record this node's driver steps: ready, persist, send, apply, advance. */
  readonly trace?: string[];
  readonly settings?: Partial<RaftNodeSettings>;
}

const indexes = (ms: readonly Message[]): string =>
  ms.map((m) => `${m.type}:${m.entries.map((e) => e.index).join(",")}`).join(" ");

export class MemoryCluster {
  readonly clock = new ManualClock(1_000_000);
  readonly network = new MemoryNetwork();
  readonly nodes = new Map<number, TestNode>();

  async start(id: number, options: StartOptions = {}): Promise<TestNode> {
    const trace = options.trace;
    const disk = options.disk ?? new MemoryRaftDisk();
    const traced = trace
      ? new MemoryRaftDisk(
          {
            onWrite: (w) =>
              trace.push(w.kind === "persist" ? `persist ${w.entries.map((e) => e.index).join(",")}` : w.kind),
          },
          disk.storage,
        )
      : disk;
    const sm = new TestStateMachine(trace);
    const leadership: boolean[] = [];
    const transport = this.network.transport(id, trace ? { onSend: (ms) => trace.push(`send ${indexes(ms)}`) } : {});
    const raft = new RaftNode({
      raftId: id,
      nodeId: member(id).nodeId,
      addr: member(id).addr,
      logger: silentLogger(),
      stateMachine: sm,
      bootstrap: options.bootstrap ?? false,
      ...(options.forceNewCluster ? { forceNewCluster: true } : {}),
      knownMembers: options.knownMembers ?? [],
      tickMs: TICK_MS,
      electionTick: ELECTION_TICK,
      heartbeatTick: 1,
      onLeadership: (isLeader) => leadership.push(isLeader),
      ...options.settings,
      disk: traced,
      transport,
      clock: this.clock,
      random: seededRandomBytes(id),
      ...(trace ? { newRawNode: (config: Config) => new TracedRawNode(config, trace) } : {}),
    });
    this.network.attach(id, raft);
    await raft.start();
    const node: TestNode = { id, raft, disk: traced, sm, leadership };
    this.nodes.set(id, node);
    return node;
  }

  /** A cluster of `ids`: the first founds it, the others join one by one, as managers do. */
  async found(ids: readonly number[], trace?: { id: number; trace: string[] }): Promise<void> {
    const [first, ...rest] = ids;
    if (first === undefined) throw new Error("no ids");
    const options = (id: number): StartOptions => (trace?.id === id ? { trace: trace.trace } : {});
    const founder = await this.start(first, { ...options(first), bootstrap: true });
    await this.until(() => founder.leadership.includes(true));
    for (const id of rest) {
      const known = this.leader()!.raft.memberList();
      await this.start(id, { ...options(id), knownMembers: known });
      const context = RaftMember.encode(member(id)).finish();
      await this.drive(this.leader()!.raft.changeMembership({ type: "addNode", nodeId: id, context }));
    }
    await this.until(() => [...this.nodes.values()].every((n) => n.raft.leaderId !== 0));
  }

  /** Lets the event loop run until the nodes and the network are quiet. */
  async settle(turns = 40): Promise<void> {
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** `n` ticks of every node, settling after each. */
  async tick(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.clock.advance(TICK_MS);
      await this.settle();
    }
  }

  /** Ticks until `done()`; fails after `maxTicks`. */
  async until(done: () => boolean, maxTicks = 200): Promise<void> {
    await this.settle();
    for (let i = 0; !done(); i++) {
      if (i >= maxTicks) throw new Error(`not done after ${maxTicks} ticks`);
      await this.tick();
    }
  }

  /** Ticks until `p` settles, and returns what it does. */
  async drive<T>(p: Promise<T>, maxTicks = 200): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await this.until(() => settled, maxTicks);
    return p;
  }

  leader(): TestNode | undefined {
    return [...this.nodes.values()].find((n) => n.raft.isLeader);
  }

  followers(): TestNode[] {
    return [...this.nodes.values()].filter((n) => !n.raft.isLeader);
  }

  async stop(id: number): Promise<void> {
    this.network.detach(id);
    await this.nodes.get(id)?.raft.stop();
    this.nodes.delete(id);
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.stop(id);
  }
}

/** A RawNode that records ready() and advance() in the trace. */
class TracedRawNode extends RawNode {
  constructor(
    config: Config,
    private readonly trace: string[],
  ) {
    super(config);
  }

  override ready(): ReturnType<RawNode["ready"]> {
    this.trace.push("ready");
    return super.ready();
  }

  override advance(rd: Parameters<RawNode["advance"]>[0]): void {
    this.trace.push("advance");
    super.advance(rd);
  }
}
