// How many container starts the agent has in flight on its daemon at once, tuned to that daemon.
//
// A start is the daemon's slow call (network sandbox, containerd shim, runc): fired all at once,
// 50 starts contend inside the daemon and finish later than 8 at a time would, while one or two at
// a time leave a daemon on several cores idle. Where the knee lies depends on the host, so the
// limit climbs the hill of the starts' throughput:
//
//   - only while saturated (a start waits for a slot) do completions count: with fewer starts
//     than slots, throughput measures the demand, not the daemon;
//   - every `limit` counted completions close a window, whose throughput (completions per second)
//     is compared with the previous window's: better by more than `margin` keeps the direction
//     of the last move, worse by more than `margin` reverses it, and within the margin the limit
//     steps down (as many starts for fewer in flight is better: less contention for inspects and
//     for the host's CPU);
//   - a move is a quarter of the limit (at least 1), within [min, max].
//
// It starts at 8 and never goes below 4, as measured on a 2-core host with Docker 20.10 (50 runs
// 8 at a time took 10 s, 4 at a time 12-14 s, 2 at a time 12-16 s): windows of a few starts are
// noisy, and the floor keeps a run of unlucky windows from leaving the daemon idle. The queue
// is FIFO, so tasks start in the order their containers were created. Time comes from `now`, so
// the logic can be tested without timers.

export interface StartLimitOptions {
  /** Milliseconds, monotonic enough for windows of a few seconds (the agent's clock). */
  readonly now: () => number;
  /** Default 8. */
  readonly initial?: number;
  /** Default 4. */
  readonly min?: number;
  /** Default 32. */
  readonly max?: number;
  /** The relative change of throughput that counts as better or worse; default 0.1. */
  readonly margin?: number;
  /** Called when the limit changes (for the log). */
  readonly onChange?: (change: LimitChange) => void;
}

export interface LimitChange {
  readonly from: number;
  readonly to: number;
  /** Starts per second of the window that decided the change. */
  readonly throughput: number;
}

export interface Timed<T> {
  readonly value: T;
  readonly queuedMs: number;
  readonly callMs: number;
}

interface Waiter {
  readonly grant: () => void;
}

interface Window {
  readonly startedAt: number;
  completions: number;
}

export class StartLimit {
  private current: number;
  private readonly min: number;
  private readonly max: number;
  private readonly margin: number;
  private running = 0;
  private readonly queue: Waiter[] = [];
  private window: Window | undefined;
  private previous: number | undefined;
  /** +1 after a rise, -1 after a fall. */
  private direction: 1 | -1 = 1;

  constructor(private readonly options: StartLimitOptions) {
    this.min = Math.max(1, options.min ?? 4);
    this.max = Math.max(this.min, options.max ?? 32);
    this.current = clamp(options.initial ?? 8, this.min, this.max);
    this.margin = options.margin ?? 0.1;
  }

  /** How many starts may be in flight now. */
  get limit(): number {
    return this.current;
  }

  /** Starts in flight. */
  get inFlight(): number {
    return this.running;
  }

  /** Starts waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `fn` once a slot is free (FIFO); with how long it waited for the slot and how long `fn`
   * took. Rejects with the signal's reason, without running `fn`, when `signal` aborts while it
   * waits.
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<Timed<T>> {
    const queuedAt = this.options.now();
    await this.acquire(signal);
    const calledAt = this.options.now();
    try {
      const value = await fn();
      return { value, queuedMs: calledAt - queuedAt, callMs: this.options.now() - calledAt };
    } finally {
      this.release();
    }
  }

  /** Takes a slot, waiting for one when all are taken. */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.current && this.queue.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.queue.indexOf(waiter);
        if (at !== -1) this.queue.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives a slot back (one start finished, whatever its outcome) and lets the next ones in. */
  release(): void {
    this.running = Math.max(0, this.running - 1);
    this.count();
    this.grant();
  }

  private grant(): void {
    while (this.running < this.current && this.queue.length > 0) {
      this.running++;
      this.queue.shift()!.grant();
    }
  }

  /** Counts a completion towards the window while saturated; closes the window when full. */
  private count(): void {
    if (this.queue.length === 0) {
      // Not saturated: what follows does not measure the daemon. Start afresh when it is again.
      this.window = undefined;
      this.previous = undefined;
      return;
    }
    const now = this.options.now();
    if (this.window === undefined) {
      this.window = { startedAt: now, completions: 0 };
      return; // the window opens at this completion: those after it are measured against its time
    }
    this.window.completions++;
    if (this.window.completions < this.current) return;
    const elapsed = Math.max(1, now - this.window.startedAt);
    const throughput = (this.window.completions * 1000) / elapsed;
    this.window = { startedAt: now, completions: 0 };
    this.adjust(throughput);
  }

  private adjust(throughput: number): void {
    const previous = this.previous;
    this.previous = throughput;
    if (previous !== undefined) {
      if (throughput < previous * (1 - this.margin)) this.direction = this.direction === 1 ? -1 : 1;
      else if (throughput <= previous * (1 + this.margin)) this.direction = -1;
    }
    const step = Math.max(1, Math.floor(this.current / 4));
    const next = clamp(this.current + this.direction * step, this.min, this.max);
    if (next === this.current) return;
    const from = this.current;
    this.current = next;
    this.options.onChange?.({ from, to: next, throughput });
  }
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(x)));
}
