// Linearizable reads through read index (Raft thesis 6.4): each read asks Raft, under a random
// context, for the commit index that a quorum confirms is current; the answer (a ReadState in a
// Ready) resolves its waiter with that index. Raft drops a request it cannot serve yet (a follower
// that knows no leader, just after a restart or an election; a message lost on the way), so an
// unanswered request is asked again every `retryMs` under the same context, as etcd's server does;
// a read that gets no answer in time fails.
import { ErrorCode, ShoalError, type Clock } from "@shoal/shared";
import type { ReadState } from "@shoal/raft";
import type { RandomBytes } from "../../random-bytes.js";

export interface ReadIndexWaitersOptions {
  readonly clock: Clock;
  /** For the request contexts. */
  readonly random: RandomBytes;
  /** How long a read waits for a quorum to confirm the leader; default 5 s. */
  readonly timeoutMs?: number;
  /** How often an unanswered request is asked again; default 500 ms. */
  readonly retryMs?: number;
}

interface Waiter {
  resolve(index: number): void;
  reject(err: Error): void;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

export class ReadIndexWaiters {
  private readonly waiters = new Map<string, Waiter>();

  constructor(private readonly options: ReadIndexWaitersOptions) {}

  /** Reads waiting for their index. */
  get size(): number {
    return this.waiters.size;
  }

  /** Asks for a read index through `request` (RawNode.readIndex); resolves with the index. */
  wait(request: (ctx: Uint8Array) => void, signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(new ShoalError(ErrorCode.Cancelled, "read cancelled"));
    const ctx = this.options.random(8);
    const key = hex(ctx);
    return new Promise<number>((resolve, reject) => {
      const done = (): void => {
        this.waiters.delete(key);
        timer.cancel();
        retry.cancel();
        signal?.removeEventListener("abort", onAbort);
      };
      const timer = this.options.clock.setTimeout(() => {
        done();
        reject(new ShoalError(ErrorCode.Unavailable, "read index: no quorum confirmed the leader in time"));
      }, this.options.timeoutMs ?? 5000);
      const onAbort = (): void => {
        done();
        reject(new ShoalError(ErrorCode.Cancelled, "read cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const retryMs = this.options.retryMs ?? 500;
      const again = (): void => {
        retry = this.options.clock.setTimeout(again, retryMs);
        request(ctx);
      };
      let retry = this.options.clock.setTimeout(again, retryMs);
      this.waiters.set(key, {
        resolve: (index) => {
          done();
          resolve(index);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      request(ctx);
    });
  }

  /** The read states of a Ready: each resolves the read of its context. */
  answer(readStates: readonly ReadState[]): void {
    for (const rs of readStates) this.waiters.get(hex(rs.requestCtx))?.resolve(rs.index);
  }

  rejectAll(err: Error): void {
    for (const w of [...this.waiters.values()]) w.reject(err);
  }
}
