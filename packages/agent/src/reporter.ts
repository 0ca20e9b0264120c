// The agent's status reporter: task runners report every status change here, and the reporter
// sends them to the dispatcher (UpdateTaskStatus) reliably and coalesced.
//
// - It keeps the latest status of each task it knows; a report replaces the previous one, so a
//   task that moves faster than the link carries only its latest status on the wire.
// - One batch is in flight at a time (at most `maxBatch` updates, one per task); whatever is
//   reported meanwhile waits for the next batch. That is the coalescing: no timer, the link's own
//   speed sets the batch size.
// - A failed send keeps its updates pending and is tried again after a backoff; an update is
//   only dropped from the pending set once sent and not replaced meanwhile.
// - On each (re)connect every known status is sent again: the new manager (or the same one after a
//   lost reply) may not have seen the last ones.
// - Statuses never go backwards: a report with an earlier state than the one held is ignored.
import {
  Backoff,
  componentLogger,
  errorMessage,
  systemClock,
  type BackoffOptions,
  type Clock,
  type Logger,
  type TaskStatus,
  type TaskStatusUpdate,
  type Timer,
} from "@shoal/shared";

/** Sends one batch of status updates (the session's UpdateTaskStatus call); rejects on failure. */
export type StatusSender = (updates: TaskStatusUpdate[], signal: AbortSignal) => Promise<void>;

/** Where task runners report to. */
export interface StatusSink {
  /** The task's latest status; replaces any earlier one not yet sent. */
  report(taskId: string, status: TaskStatus): void;
  /** The task is no longer assigned: drop its status, sent or not. */
  forget(taskId: string): void;
}

export interface StatusReporterOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Delay before sending again after a failed send; default 100 ms doubling up to 5 s. */
  readonly backoff?: BackoffOptions;
  /** Most updates in one call; default 1000. */
  readonly maxBatch?: number;
}

interface Link {
  readonly send: StatusSender;
  readonly signal: AbortSignal;
}

export class StatusReporter implements StatusSink {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly maxBatch: number;
  /** The latest status of every known task. */
  private readonly latest = new Map<string, TaskStatus>();
  /** Tasks whose latest status the managers may not have; in report order. */
  private readonly pending = new Set<string>();
  private link: Link | undefined;
  private sending = false;
  private scheduled = false;
  private retry: Timer | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Batches sent, and batches that failed; for tests and metrics. */
  sent = 0;
  failed = 0;

  constructor(options: StatusReporterOptions) {
    this.logger = componentLogger(options.logger, "reporter");
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 100, maxMs: 5000, ...options.backoff });
    this.maxBatch = options.maxBatch ?? 1000;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError("reporter: maxBatch must be >= 1");
  }

  report(taskId: string, status: TaskStatus): void {
    if (this.stopped) return;
    const held = this.latest.get(taskId);
    if (held !== undefined && status.state < held.state) {
      this.logger.debug({ taskId, state: status.state, held: held.state }, "ignored a status older than the one held");
      return;
    }
    this.latest.set(taskId, status);
    this.pending.add(taskId);
    this.schedule();
  }

  forget(taskId: string): void {
    this.latest.delete(taskId);
    this.pending.delete(taskId);
    this.notifyIdle();
  }

  /**
   * Sends through `send` from now until `signal` aborts (the session ends) or another connect
   * replaces it. Every known status is sent again.
   */
  connect(send: StatusSender, signal: AbortSignal): void {
    if (this.stopped || signal.aborted) return;
    const link: Link = { send, signal };
    this.link = link;
    signal.addEventListener(
      "abort",
      () => {
        if (this.link === link) this.link = undefined;
      },
      { once: true },
    );
    for (const taskId of this.latest.keys()) this.pending.add(taskId);
    this.retry?.cancel();
    this.retry = undefined;
    this.backoff.reset();
    this.schedule();
  }

  /** The latest status held for the task. */
  status(taskId: string): TaskStatus | undefined {
    return this.latest.get(taskId);
  }

  /** How many tasks have a status not yet sent. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether a link is attached. */
  get connected(): boolean {
    return this.link !== undefined;
  }

  /** Resolves once every status has been sent (or the reporter stops, or `signal` aborts). */
  flushed(signal?: AbortSignal): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.idleWaiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Stops sending; pending statuses are dropped. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.retry?.cancel();
    this.retry = undefined;
    this.link = undefined;
    this.pending.clear();
    this.notifyIdle();
  }

  private idle(): boolean {
    return this.stopped || (this.pending.size === 0 && !this.sending);
  }

  private notifyIdle(): void {
    if (!this.idle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Sends on the next microtask, so that the reports of one burst go in one batch. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    const link = this.link;
    if (this.stopped || this.sending || this.retry !== undefined || link === undefined) return;
    if (this.pending.size === 0) {
      this.notifyIdle();
      return;
    }
    const batch: [string, TaskStatus][] = [];
    for (const taskId of this.pending) {
      const status = this.latest.get(taskId);
      if (status !== undefined) batch.push([taskId, status]);
      if (batch.length >= this.maxBatch) break;
    }
    this.sending = true;
    try {
      await link.send(
        batch.map(([taskId, status]) => ({ taskId, status })),
        link.signal,
      );
      this.sent++;
      this.backoff.reset();
      // Sent; unless a newer status came meanwhile, which stays pending.
      for (const [taskId, status] of batch) if (this.latest.get(taskId) === status) this.pending.delete(taskId);
    } catch (err: unknown) {
      this.failed++;
      // A link that ended waits for the next connect; a live one is tried again after a delay.
      if (!this.stopped && !link.signal.aborted && this.link === link) {
        const delay = this.backoff.next();
        this.logger.warn({ err: errorMessage(err), updates: batch.length, retryInMs: delay }, "status update failed");
        this.retry = this.clock.setTimeout(() => {
          this.retry = undefined;
          this.schedule();
        }, delay);
      } else {
        this.logger.debug({ err: errorMessage(err), updates: batch.length }, "status update failed with its session");
      }
    } finally {
      this.sending = false;
    }
    this.schedule();
    this.notifyIdle();
  }
}
