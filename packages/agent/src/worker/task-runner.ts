// One task's runner: it drives the task's container with doTask, one state step after another,
// and hands every new status to `onStatus`.
//
//   - "advanced": take the next step at once;
//   - "retry" (a temporary error, e.g. the daemon is away): wait with backoff, then again;
//   - "noop" (terminal, or nothing to do until the desired state rises): wait for an update.
//
// A step can wait long (wait() lasts as long as the container runs; start() until it is healthy).
// When the manager raises the desired state to SHUTDOWN or REMOVE, the step in progress is
// aborted and the next one shuts the container down; REMOVE then also removes it. While the task
// is STARTING or RUNNING, health changes of its container are reported as they happen. A status
// never goes backwards: the later state of the runner's and the manager's copy wins; a task the
// manager says has ended (ORPHANED, say) has its container stopped.
import {
  Backoff,
  HealthState,
  TaskState,
  errorMessage,
  type BackoffOptions,
  type Clock,
  type Logger,
  type Task,
  type TaskStatus,
  type Timer,
} from "@shoal/shared";
import { doTask, type StepResult } from "../exec/do.js";
import { isTemporary } from "../exec/errors.js";
import type { Controller } from "../exec/executor.js";
import { isTerminal, laterStatus, newStatus, statusChanged } from "./task-status.js";
import { shutdownAndRemove } from "./teardown.js";

export interface TaskRunnerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Between retries of a step that hit a temporary error; default 100 ms doubling up to 10 s. */
  readonly backoff?: BackoffOptions;
  /** Called (synchronously) with the task each time its status changes. */
  readonly onStatus: (task: Task) => void;
}

export class TaskRunner {
  private current: Task;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private step: AbortController | undefined;
  /** Aborts what the runner does outside steps (stop, remove) when it is closed. */
  private readonly closing = new AbortController();
  private wakeUp: (() => void) | undefined;
  private readonly unwatchHealth: () => void;
  private loop: Promise<void> | undefined;
  private closed = false;
  private removed = false;
  /** Whether the container is known not to run (once terminal): seen ending, or stopped. */
  private settled = false;

  constructor(
    task: Task,
    private readonly controller: Controller,
    private readonly options: TaskRunnerOptions,
  ) {
    this.current = { ...task, status: task.status ?? newStatus() };
    this.logger = options.logger.child({ taskId: task.id });
    this.backoff = new Backoff({ initialMs: 100, maxMs: 10_000, ...options.backoff });
    this.unwatchHealth = controller.onHealth((health) => this.onHealth(health));
  }

  /** The task with its latest status. */
  get task(): Task {
    return this.current;
  }

  get taskId(): string {
    return this.current.id;
  }

  /** Starts driving the task; once. */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) =>
      this.logger.error({ err: errorMessage(err) }, "task runner stopped on an unexpected error"),
    );
  }

  /**
   * The manager's copy of the task changed (or was sent again). The desired state only rises and
   * the status only moves forward; a rise to SHUTDOWN/REMOVE interrupts the step in progress.
   */
  update(task: Task): void {
    if (this.closed) return;
    const before = this.current;
    const desiredState = Math.max(before.desiredState, task.desiredState) as TaskState;
    const status = laterStatus(before.status, task.status) ?? newStatus();
    this.current = { ...task, desiredState, status };
    const shutdownAsked = before.desiredState < TaskState.SHUTDOWN && desiredState >= TaskState.SHUTDOWN;
    const endedElsewhere = !isTerminal(before.status!.state) && isTerminal(status.state);
    if (shutdownAsked || endedElsewhere) this.step?.abort(new Error("desired state changed"));
    if (desiredState !== before.desiredState || status !== before.status) this.wake();
  }

  /** Stops driving the task; its container is left as it is. Idempotent. */
  async close(): Promise<void> {
    await this.halt();
    this.controller.close();
  }

  /**
   * The task is no longer assigned: stop driving it, then stop and remove its container
   * (retrying temporary errors until `signal` aborts).
   */
  async retire(signal: AbortSignal): Promise<void> {
    await this.halt();
    try {
      if (!this.removed) {
        const { clock, logger, backoff } = this.options;
        await shutdownAndRemove(this.controller, signal, { clock, logger, ...(backoff ? { backoff } : {}) });
      }
    } finally {
      this.controller.close();
    }
  }

  private async halt(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.unwatchHealth();
      this.step?.abort(new Error("task runner closed"));
      this.closing.abort(new Error("task runner closed"));
      this.wake();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const task = this.current;
      if (isTerminal(task.status!.state)) {
        if (!this.settled) await this.settle();
        else if (task.desiredState >= TaskState.REMOVE && !this.removed) await this.removeContainer();
        else await this.pause();
        continue;
      }
      const step = new AbortController();
      this.step = step;
      let result: StepResult;
      try {
        result = await doTask(task, this.controller, step.signal, this.options.clock);
      } catch (err: unknown) {
        // doTask only throws on a bug (e.g. a step that would go backwards); do not spin on it.
        this.logger.error({ err: errorMessage(err) }, "task step failed");
        await this.pause(this.backoff.next());
        continue;
      } finally {
        this.step = undefined;
      }
      // Interrupted on purpose (desired state raised, or closing): the result says nothing new.
      if (step.signal.aborted) continue;
      this.apply(result.status);
      switch (result.outcome) {
        case "advanced":
          this.backoff.reset();
          break;
        case "retry": {
          const delay = this.backoff.next();
          this.logger.warn({ err: errorMessage(result.error), retryInMs: delay }, "task step will be retried");
          await this.pause(delay);
          break;
        }
        case "noop":
          await this.pause();
          break;
      }
    }
  }

  /**
   * The task ended by the manager's word (e.g. ORPHANED after its node was down, or a status
   * saved before a restart) rather than by a step of this runner: make sure its container does
   * not run. A no-op for a container that exited.
   */
  private async settle(): Promise<void> {
    try {
      await this.controller.shutdown(this.closing.signal);
      this.settled = true;
    } catch (err: unknown) {
      if (this.closed) return;
      if (!isTemporary(err)) {
        this.logger.warn({ err: errorMessage(err) }, "could not stop the container of an ended task");
        this.settled = true;
        return;
      }
      await this.pause(this.backoff.next());
    }
  }

  private async removeContainer(): Promise<void> {
    try {
      await this.controller.remove(this.closing.signal);
      this.removed = true;
      this.logger.info("removed the container of a task to remove");
    } catch (err: unknown) {
      if (this.closed) return;
      const delay = this.backoff.next();
      this.logger.warn({ err: errorMessage(err), retryInMs: delay }, "removing the container failed");
      await this.pause(delay);
    }
  }

  /** Takes a new status from a step or a health change, unless it would go backwards. */
  private apply(status: TaskStatus): void {
    const before = this.current.status!;
    if (status.state < before.state || !statusChanged(before, status)) return;
    // Ended by a step: wait() saw it exit, shutdown stopped it, or it never started.
    if (isTerminal(status.state)) this.settled = true;
    this.current = { ...this.current, status };
    this.options.onStatus(this.current);
  }

  private onHealth(health: HealthState): void {
    const status = this.current.status!;
    if (this.closed || health === HealthState.UNKNOWN || health === status.health) return;
    if (status.state < TaskState.STARTING || isTerminal(status.state)) return;
    this.apply({ ...status, health, timestamp: new Date(this.options.clock.now()) });
  }

  /** Waits until woken (update, close), or `ms` when given. */
  private pause(ms?: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      const done = (): void => {
        timer?.cancel();
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if (ms !== undefined) timer = this.options.clock.setTimeout(done, ms);
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }
}
