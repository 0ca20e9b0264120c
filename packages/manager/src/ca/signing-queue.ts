// Certificates are signed one at a time, each in a turn of the event loop of its own.
//
// Signing is pure-JavaScript ASN.1 work (@peculiar/x509): a few milliseconds each, in short
// synchronous stretches between WebCrypto calls. A thousand nodes joining at once used to run
// those stretches back to back: the leader's event loop was held for up to a second at a time,
// Raft heartbeats went unanswered and leadership moved in the middle of the join storm. In a
// queue, a join storm costs the same CPU in all, but never holds the loop for more than one
// signature, and a caller that has gone meanwhile costs nothing.
import { ShoalError, ErrorCode } from "@shoal/shared";

/** Past this many waiting, a caller is told to come back (UNAVAILABLE, which nodes retry). */
export const MAX_WAITING_SIGNATURES = 2000;

export class SigningQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  constructor(private readonly maxWaiting = MAX_WAITING_SIGNATURES) {}

  /** How many signatures wait or run now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `sign` after every signature queued before it; not at all if `signal` aborted meanwhile. */
  run<T>(sign: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#waiting >= this.maxWaiting) {
      return Promise.reject(
        new ShoalError(
          ErrorCode.Unavailable,
          `the certificate authority has ${this.#waiting} certificates to sign already: try again shortly`,
        ),
      );
    }
    this.#waiting++;
    const turn = this.#tail.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    const result = turn.then(() => {
      signal?.throwIfAborted();
      return sign();
    });
    const settled = result.finally(() => this.#waiting--);
    this.#tail = settled.catch(() => undefined);
    return settled;
  }
}
