// Time as a dependency: production code takes a Clock so that tests can drive it.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned timer cancels it. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
  sleep: (ms, signal) => sleepWith(systemClock, ms, signal),
};

/**
 * Calls `fn` every `ms` (the first time `ms` from now) until the returned timer is cancelled: an
 * interval built on `clock.setTimeout`, so that a ManualClock drives it as well. The next call is
 * armed before `fn` runs, so `fn` may cancel it and a throw does not end the interval.
 */
export function every(clock: Clock, ms: number, fn: () => void): Timer {
  if (!(ms > 0)) throw new RangeError(`every: the interval must be over 0 ms, not ${ms}`);
  let cancelled = false;
  let timer: Timer;
  const arm = (): void => {
    timer = clock.setTimeout(() => {
      if (cancelled) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      timer.cancel();
    },
  };
}

function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A clock that moves only when told to: deterministic tests of timeouts and backoff. */
export class ManualClock implements Clock {
  private current: number;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  private nextHandle = 0;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const handle = this.nextHandle++;
    this.pending.set(handle, { at: this.current + Math.max(0, ms), fn });
    return { cancel: () => this.pending.delete(handle) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.pending.delete(due[0]);
      this.current = due[1].at;
      due[1].fn();
    }
    this.current = until;
  }

  /** How many timers wait to fire. */
  get pendingTimers(): number {
    return this.pending.size;
  }
}
