// Turns of the event loop for the leader's heavy work, one caller per turn.
//
// The leader's components (orchestrators, scheduler, allocator, reaper) each do a synchronous
// stretch of work per pass: read what is dirty, plan, write. Alone, each stretch is short enough;
// but fourteen of them waking on the same commit, or starting together when leadership comes,
// used to run back to back, and with 100,000 tasks that held the loop for seconds: Raft heartbeats
// and agents' calls waited, and followers elected a new leader.
//
// `nextTurn()` resolves its callers one per turn of the event loop, in the order they asked, so
// that I/O (Raft messages, gRPC calls, timers) is served between any two of them. setImmediate
// alone is not enough: every callback queued before a check phase runs in that same phase, back
// to back; here the next caller's callback is queued only once the previous one ran, so it lands
// in the next turn.

/** Resolves each caller in a turn of the event loop of its own, first come first served. */
export class TurnQueue {
  readonly #waiting: (() => void)[] = [];
  #head = 0;
  #pumping = false;

  /** Resolves in a later turn of the event loop, after every caller that asked before. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#pumping) {
        this.#pumping = true;
        setImmediate(this.#pump);
      }
    });
  }

  /** How many callers wait. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  readonly #pump = (): void => {
    const resolve = this.#waiting[this.#head++];
    if (this.#head === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#head = 0;
    }
    resolve?.();
    // The caller's continuation runs in this turn's microtasks; the next caller gets the next turn,
    // queued behind whatever the continuation itself queued for the next check phase.
    if (this.waiting > 0) void Promise.resolve().then(() => setImmediate(this.#pump));
    else this.#pumping = false;
  };
}

/** The queue shared by every component of this process. */
export const leaderTurns = new TurnQueue();

/** Waits for a turn of the event loop of its own (see TurnQueue). */
export function nextTurn(): Promise<void> {
  return leaderTurns.next();
}
