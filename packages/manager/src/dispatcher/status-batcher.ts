// Task status reports from agents, batched into store writes: what arrives within one flush
// interval (on the injected clock) becomes one transaction (several, past MAX_STATUS_WRITES). A report may only move a task forward
// (TaskState order), or refresh the same state (health, message); it must come from the node the
// task is assigned to.
import {
  TaskState,
  componentLogger,
  errorMessage,
  type Clock,
  type Logger,
  type TaskStatus,
  type Timer,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";

interface Pending {
  readonly nodeId: string;
  readonly status: TaskStatus;
}

interface Flush {
  readonly done: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function newFlush(): Flush {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => undefined);
  return { done, resolve, reject };
}

/** Task statuses written in one transaction, at most; a larger batch is written in several. */
export const MAX_STATUS_WRITES = 1_000;

export interface StatusBatcherOptions {
  readonly store: MemoryStore;
  /** Times the flushes, and stamps a report that came without a timestamp. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long the first report of a batch waits for others; default 20 ms. */
  readonly intervalMs?: number;
}

export class StatusBatcher {
  private pending = new Map<string, Pending>();
  private next: Flush = newFlush();
  private timer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly intervalMs: number;

  constructor(options: StatusBatcherOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "dispatcher/status");
    this.intervalMs = options.intervalMs ?? 20;
  }

  /** Queues a report (the latest report of a task wins); resolves once its batch is written. */
  add(nodeId: string, taskId: string, status: TaskStatus): Promise<void> {
    const previous = this.pending.get(taskId);
    if (!previous || previous.status.state <= status.state) this.pending.set(taskId, { nodeId, status });
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, this.intervalMs);
    return this.next.done;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    const flush = this.next;
    this.pending = new Map();
    this.next = newFlush();
    if (batch.size === 0) {
      flush.resolve();
      return;
    }
    const now = this.clock.now();
    const reports = [...batch];
    try {
      // In transactions of at most MAX_STATUS_WRITES: while one is written, reports pile up, and
      // with 1,000 agents one unbounded batch held 57,000 tasks (tens of MB in one Raft entry,
      // seconds of one turn on every manager to encode and apply).
      for (let at = 0; at < reports.length; at += MAX_STATUS_WRITES) {
        const chunk = reports.slice(at, at + MAX_STATUS_WRITES);
        await this.store.update((tx) => {
          for (const [taskId, { nodeId, status }] of chunk) {
            const task = tx.tasks.get(taskId);
            if (!task || task.nodeId !== nodeId) continue;
            const current = task.status?.state ?? TaskState.NEW;
            if (status.state < current) continue;
            if (status.state === current && sameStatus(task.status, status)) continue;
            task.status = { ...status, timestamp: status.timestamp ?? new Date(now) };
            tx.tasks.update(task);
          }
        });
      }
      flush.resolve();
    } catch (err: unknown) {
      // Not the leader any more, or a conflict: the agent's reporter sends again.
      this.logger.warn({ err: errorMessage(err), tasks: batch.size }, "could not record task status");
      flush.reject(err);
    }
  }

  /** Writes what is queued; resolves when done. */
  async drain(): Promise<void> {
    if (this.timer) {
      this.timer.cancel();
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }
    await this.flushing;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.pending.clear();
    this.next.reject(new Error("dispatcher stopped"));
    this.next = newFlush();
  }
}

function sameStatus(a: TaskStatus | undefined, b: TaskStatus): boolean {
  return (
    a !== undefined &&
    a.state === b.state &&
    a.health === b.health &&
    a.message === b.message &&
    a.err === b.err &&
    a.containerStatus?.containerId === b.containerStatus?.containerId &&
    a.containerStatus?.exitCode === b.containerStatus?.exitCode
  );
}
