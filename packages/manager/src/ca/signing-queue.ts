// Certificates are signed one at a time, each in a turn of the event loop of its own, and only
// for callers that can still be answered in time.
//
// Signing is pure-JavaScript ASN.1 work (@peculiar/x509): a few milliseconds each, in short
// synchronous stretches between WebCrypto calls. A thousand nodes joining at once used to run
// those stretches back to back: the leader's event loop was held for up to a second at a time,
// Raft heartbeats went unanswered and leadership moved in the middle of the join storm. In a
// queue, a join storm costs the same CPU in all but never holds the loop for more than one
// signature.
//
// A queue alone livelocks under a storm, though: with a thousand callers waiting, each one's
// turn came after its deadline, so the CA signed certificates nobody received while the nodes
// gave up and queued again (2,000 signatures for 400 joined nodes in a bench). So a caller whose
// deadline the queue cannot meet, by the measured cost of a signature, is told at once to come
// back (UNAVAILABLE, which nodes retry with backoff), and one whose deadline passed while it
// waited is skipped.
import { ErrorCode, ShoalError } from "@shoal/shared";

/** Past this many waiting, a caller is told to come back, whatever its deadline. */
export const MAX_WAITING_SIGNATURES = 2000;
/** The cost of a signature assumed before one is measured. */
const INITIAL_COST_MS = 10;

export interface SigningCall {
  /** Aborts when the caller has gone. */
  readonly signal?: AbortSignal;
  /** When the caller stops waiting, in ms of `now`; none: it waits. */
  readonly deadline?: number;
}

export class SigningQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #costMs = INITIAL_COST_MS;

  /** `now` in ms: the manager's clock (a manual one in tests measures every signature as free). */
  constructor(
    private readonly now: () => number,
    private readonly maxWaiting = MAX_WAITING_SIGNATURES,
  ) {}

  /** How many signatures wait or run now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `sign` after every signature queued before it, if the caller can still use it. */
  run<T>(sign: () => Promise<T>, call: SigningCall = {}): Promise<T> {
    const expectedMs = (this.#waiting + 1) * this.#costMs;
    if (this.#waiting >= this.maxWaiting || (call.deadline !== undefined && this.now() + expectedMs > call.deadline)) {
      return Promise.reject(busy(this.#waiting));
    }
    this.#waiting++;
    const turn = this.#tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    const result = turn.then(async () => {
      call.signal?.throwIfAborted();
      if (call.deadline !== undefined && this.now() >= call.deadline) throw busy(this.#waiting - 1);
      const started = this.now();
      const value = await sign();
      // A moving average: one slow signature (a GC pause) does not close the door.
      this.#costMs = 0.8 * this.#costMs + 0.2 * Math.max(0, this.now() - started);
      return value;
    });
    const settled = result.finally(() => this.#waiting--);
    this.#tail = settled.catch(() => undefined);
    return settled;
  }
}

function busy(waiting: number): ShoalError {
  return new ShoalError(
    ErrorCode.Unavailable,
    `the certificate authority has ${waiting} certificates to sign before this one: try again shortly`,
  );
}
