// Helpers to drive the Raft core directly (without RawNode): build nodes, read their outbox, and a
// synchronous message pump between them that can drop, cut and isolate (in the manner of etcd's
// raft_test.go `network`).
import type { Config } from "../../src/config.js";
import { MemoryStorage } from "../../src/memory-storage.js";
import { Raft } from "../../src/raft.js";
import type { Entry, Message, MessageType } from "../../src/types.js";
import { makeMessage } from "../../src/types.js";
import { Prng } from "./prng.js";

export interface TestRaftOptions extends Partial<Omit<Config, "id" | "storage">> {
  storage?: MemoryStorage;
}

/** A node with the paper's behaviour by default: no pre-vote, no check-quorum. */
export function newTestRaft(id: number, peers: number[], options: TestRaftOptions = {}): Raft {
  const storage = options.storage ?? new MemoryStorage({ confState: { voters: peers } });
  return new Raft({
    electionTick: 10,
    heartbeatTick: 1,
    preVote: false,
    checkQuorum: false,
    random: new Prng(id).source(),
    ...options,
    id,
    storage,
  });
}

/** Take the messages a node produced. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** Persist a node's unstable entries to its storage and hand back the newly committed entries (applied). */
export function persistAndApply(r: Raft, storage: MemoryStorage): Entry[] {
  const unstable = r.log.unstableEntries();
  const last = unstable[unstable.length - 1];
  if (last !== undefined) {
    storage.append(unstable);
    r.log.stableTo(last.index, last.term);
  }
  const committed = r.log.nextCommittedEntries();
  const lastCommitted = committed[committed.length - 1];
  if (lastCommitted !== undefined) {
    r.log.acceptApplying(lastCommitted.index);
    r.log.appliedTo(lastCommitted.index);
  }
  return committed;
}

export function msg(fields: Partial<Message> & Pick<Message, "type">): Message {
  return makeMessage(fields);
}

export function propMsg(to: number, data = "somedata"): Message {
  return makeMessage({
    type: "MsgProp",
    from: to,
    to,
    entries: [{ term: 0, index: 0, type: "normal", data: new TextEncoder().encode(data) }],
  });
}

export function hup(to: number): Message {
  return makeMessage({ type: "MsgHup", from: to, to });
}

/** Log entries (index, term) of a node, from its first index. */
export function logOf(r: Raft): Array<[number, number]> {
  return r.log.entries(r.log.firstIndex(), 1e12).map((e) => [e.index, e.term]);
}

/**
 * Delivers messages between Raft nodes synchronously until no message is left. A peer may be undefined
 * (a black hole that swallows its messages).
 */
export class RaftNet {
  readonly peers = new Map<number, Raft | undefined>();
  private readonly dropped = new Map<string, number>();
  private readonly ignored = new Set<MessageType>();
  private readonly rng = new Prng(42);
  /** Every message delivered (for assertions). */
  readonly log: Message[] = [];

  constructor(...nodes: Array<Raft | undefined>) {
    const ids = nodes.map((_, i) => i + 1);
    nodes.forEach((n, i) => this.peers.set(ids[i] as number, n));
  }

  node(id: number): Raft {
    const r = this.peers.get(id);
    if (r === undefined) throw new Error(`no raft ${id}`);
    return r;
  }

  /** Step the messages and everything they cause. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    while (queue.length > 0) {
      const m = queue.shift() as Message;
      const r = this.peers.get(m.to);
      if (r === undefined) continue;
      this.log.push(m);
      try {
        r.step(m);
      } catch (err: unknown) {
        if (!(err instanceof Error && "code" in err && err.code === "ERR_RAFT_PROPOSAL_DROPPED")) throw err;
      }
      queue.push(...this.filter(readMessages(r)));
    }
  }

  /** Drop messages from -> to with probability `p` (1 cuts the link one way). */
  drop(from: number, to: number, p: number): void {
    this.dropped.set(`${from}-${to}`, p);
  }

  cut(a: number, b: number): void {
    this.drop(a, b, 2);
    this.drop(b, a, 2);
  }

  isolate(id: number): void {
    for (const other of this.peers.keys()) {
      if (other !== id) this.cut(id, other);
    }
  }

  ignore(type: MessageType): void {
    this.ignored.add(type);
  }

  recover(): void {
    this.dropped.clear();
    this.ignored.clear();
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignored.has(m.type)) return false;
      if (m.type === "MsgHup") throw new Error("unexpected MsgHup on the wire");
      const p = this.dropped.get(`${m.from}-${m.to}`) ?? 0;
      return p === 0 || this.rng.next() >= p;
    });
  }
}
