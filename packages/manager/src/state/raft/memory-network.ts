// The in-memory twin of the gRPC transport: Raft nodes of one process exchange messages through it,
// for fast and deterministic tests of the driver. Sent messages are queued and delivered together in
// a later turn of the event loop (as from a socket), each a copy (as off the wire). Nodes can be
// isolated and single messages dropped; a dropped snapshot is reported lost, one delivered reported
// delivered, as the gRPC transport does.
import type { Message } from "@shoal/raft";
import type { PeerReports, PeerTransport } from "./peer-transport.js";

/** A node on the network: where its messages go, and where its sends are reported. */
export interface MemoryEndpoint extends PeerReports {
  step(m: Message): void;
}

export interface MemoryTransportOptions {
  /** Called with every send, before the messages are queued (to trace the driver's order). */
  readonly onSend?: (messages: readonly Message[]) => void;
}

export class MemoryNetwork {
  private readonly endpoints = new Map<number, MemoryEndpoint>();
  private readonly isolated = new Set<number>();
  private queue: Message[] = [];
  private scheduled = false;
  /** Delivers a message only when it returns true (after the isolation check). */
  filter: ((m: Message) => boolean) | undefined;
  /** Messages delivered and dropped so far. */
  delivered = 0;
  dropped = 0;

  /** A transport for the node `raftId`; attach() the node to receive and hear reports. */
  transport(raftId: number, options: MemoryTransportOptions = {}): PeerTransport {
    return new MemoryTransport(this, raftId, options);
  }

  attach(raftId: number, endpoint: MemoryEndpoint): void {
    this.endpoints.set(raftId, endpoint);
  }

  /** The node is gone (stopped, crashed): messages to it are dropped. */
  detach(raftId: number): void {
    this.endpoints.delete(raftId);
  }

  /** Drops every message from or to `raftId` until heal(). */
  isolate(raftId: number): void {
    this.isolated.add(raftId);
  }

  heal(raftId?: number): void {
    if (raftId === undefined) this.isolated.clear();
    else this.isolated.delete(raftId);
  }

  /** Messages waiting for delivery. */
  get pending(): number {
    return this.queue.length;
  }

  /** @internal */
  enqueue(m: Message): void {
    this.queue.push(structuredClone(m));
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** @internal */
  endpoint(raftId: number): MemoryEndpoint | undefined {
    return this.endpoints.get(raftId);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) {
      const to = this.endpoints.get(m.to);
      const ok =
        to !== undefined && !this.isolated.has(m.from) && !this.isolated.has(m.to) && (this.filter?.(m) ?? true);
      if (ok) this.delivered++;
      else this.dropped++;
      if (ok) to.step(m);
      if (m.type === "MsgSnap") this.endpoints.get(m.from)?.reportSnapshot(m.to, ok);
    }
  }
}

class MemoryTransport implements PeerTransport {
  private readonly peers = new Map<number, string>();
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    private readonly raftId: number,
    private readonly options: MemoryTransportOptions,
  ) {}

  send(messages: readonly Message[]): void {
    this.options.onSend?.(messages);
    if (this.closed) return;
    for (const m of messages) {
      if (this.peers.has(m.to)) {
        this.network.enqueue(m);
        continue;
      }
      // No such peer: as the gRPC transport, report it.
      const self = this.network.endpoint(this.raftId);
      self?.reportUnreachable(m.to);
      if (m.type === "MsgSnap") self?.reportSnapshot(m.to, false);
    }
  }

  setPeer(raftId: number, addr: string): void {
    this.peers.set(raftId, addr);
  }

  removePeer(raftId: number): void {
    this.peers.delete(raftId);
  }

  close(): void {
    this.closed = true;
    this.peers.clear();
  }
}
