// Pending linearizable reads on the leader (thesis 6.4): a read arriving at commit index c may be served
// once a quorum has acknowledged a heartbeat sent after it arrived, which proves that no other leader had
// been elected at that time. Requests are queued in arrival order; an ack for one request also confirms
// every request queued before it.
import type { Message } from "./types.js";

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<number>;
}

/** Byte contexts as map keys. */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i] as number);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Register a read request (its context is req.entries[0].data) at commit index `index`. */
  addRequest(index: number, req: Message): void {
    const ctx = req.entries[0]?.data;
    if (ctx === undefined) return;
    const key = contextKey(ctx);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Record a heartbeat acknowledgement for the request with this context; returns its acks so far. */
  recvAck(id: number, ctx: Uint8Array): ReadonlySet<number> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Dequeue the request with this context and all requests queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs !== undefined) out.push(rs);
      this.pending.delete(k);
    }
    return out;
  }

  /** Context of the newest pending request, to attach to heartbeats. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.req.entries[0]?.data;
  }

  get pendingCount(): number {
    return this.queue.length;
  }
}
