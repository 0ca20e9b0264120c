// The agent's worker: it holds the set of tasks assigned to this node and keeps one TaskRunner
// per task, from the dispatcher's assignments to running containers, and reports each status
// change to a StatusSink (the reporter).
//
//   start()              once, before any assignment: the tasks saved by the previous run that
//                        still have a container get a runner again (it attaches to the container:
//                        prepare reuses it, start does nothing when it runs). Saved tasks without
//                        a container wait for the assignments.
//   applyComplete(set)   the full set: runners of tasks not in it retire (their containers are
//                        stopped and removed); each task of the set gets a runner or updates its
//                        own; then containers on the host whose task is not assigned are stopped
//                        and removed. Nothing is removed before the first full set: an agent
//                        without a manager keeps its containers running.
//   applyIncremental()   UPDATE adds a task or updates it (desired state); REMOVE retires it.
//
// The secrets and configs sent with the tasks are kept in memory (DependencyStore, by id; a full
// set replaces them, REMOVE forgets one) for the controllers that make the tasks' files. Their
// data is never logged: no line here logs an assignment change.
//
// Messages are applied one at a time, in order. The assigned tasks, with their latest status,
// are saved to the TaskStore after each change (coalesced).
import {
  AssignmentAction,
  AssignmentsType,
  Backoff,
  Task,
  TaskState,
  componentLogger,
  errorMessage,
  systemClock,
  type AssignmentChange,
  type AssignmentsResponse,
  type BackoffOptions,
  type Clock,
  type Logger,
  type NetworkState,
  type NodeDescription,
} from "@shoal/shared";
import type { Executor, TaskContainer } from "../exec/executor.js";
import type { NetworkStates } from "../network/network-states.js";
import type { StatusSink } from "../reporter.js";
import { DependencyStore } from "../secrets/dependency-store.js";
import { laterStatus, newStatus } from "./task-status.js";
import { MemoryTaskStore, type TaskStore } from "./task-store.js";
import { TaskRunner } from "./task-runner.js";
import { shutdownAndRemove } from "./teardown.js";

export interface WorkerOptions {
  readonly executor: Executor;
  readonly reporter: StatusSink;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Where the assigned tasks are saved for the next run; default in memory. */
  readonly store?: TaskStore;
  /** Retries of task steps, teardowns and container listings; default 100 ms doubling up to 10 s. */
  readonly backoff?: BackoffOptions;
  /**
   * This agent's node id, when known: only containers of tasks of this node are removed as
   * unassigned (several agents may share one Docker daemon). Unset: every container the
   * executor lists is this agent's.
   */
  readonly nodeId?: string;
  /** Where the networks sent with the tasks go, before the tasks reach the executor. */
  readonly networks?: NetworkStates;
}

export class Worker {
  private readonly executor: Executor;
  private readonly reporter: StatusSink;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly store: TaskStore;
  private readonly backoff: BackoffOptions | undefined;
  private node: string | undefined;
  /** What this node described of itself, for the task templates ({{.Node.Hostname}}, ...). */
  private description: NodeDescription | undefined;

  private readonly runners = new Map<string, TaskRunner>();
  /** The secrets and configs sent to this node, in memory only. */
  private readonly dependencies = new DependencyStore();
  private readonly networks: NetworkStates | undefined;
  /** Tasks whose container is being stopped and removed. */
  private readonly retiring = new Map<string, Promise<void>>();
  /** Saved tasks without a container: their saved status counts once they are assigned again. */
  private readonly remembered = new Map<string, Task>();
  private completeSeen = false;
  private serial: Promise<void> = Promise.resolve();
  private readonly background = new Set<Promise<void>>();
  private sweepGeneration = 0;
  private saveDirty = false;
  private saving: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    this.executor = options.executor;
    this.reporter = options.reporter;
    this.logger = componentLogger(options.logger, "worker");
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryTaskStore();
    this.backoff = options.backoff;
    this.node = options.nodeId;
    this.networks = options.networks;
  }

  /** This agent's node id (see WorkerOptions.nodeId). */
  get nodeId(): string | undefined {
    return this.node;
  }

  setNodeId(nodeId: string, description?: NodeDescription): void {
    this.node = nodeId;
    if (description !== undefined) this.description = description;
  }

  /** Whether a full set of assignments has been applied. */
  get hasCompleteSet(): boolean {
    return this.completeSeen;
  }

  /** The tasks with a runner, with their latest status. */
  tasks(): Task[] {
    return [...this.runners.values()].map((r) => r.task);
  }

  /** The ids of the secrets and configs held (never their data). */
  dependencyIds(): { secrets: string[]; configs: string[] } {
    return { secrets: this.dependencies.secretIds(), configs: this.dependencies.configIds() };
  }

  /** Adopts the saved tasks that still have a container. Call once, before the assignments. */
  start(signal?: AbortSignal): Promise<void> {
    return this.enqueue(() => this.adoptSaved(signal));
  }

  /** Applies one message of the Assignments stream. */
  apply(message: AssignmentsResponse): Promise<void> {
    switch (message.type) {
      case AssignmentsType.COMPLETE:
        return this.applyComplete(
          message.changes.flatMap((c) => (c.action === AssignmentAction.UPDATE && c.task ? [c.task] : [])),
          message.changes,
        );
      case AssignmentsType.INCREMENTAL:
        return this.applyIncremental(message.changes);
      default:
        this.logger.warn({ type: message.type }, "ignoring assignments of an unknown type");
        return Promise.resolve();
    }
  }

  /**
   * The full set of tasks assigned to this node: anything held and not listed is no longer
   * assigned. With `dependencies` (the set's changes), its secrets and configs replace those held.
   */
  applyComplete(tasks: readonly Task[], dependencies?: readonly AssignmentChange[]): Promise<void> {
    return this.enqueue(async () => {
      if (dependencies !== undefined) this.dependencies.replace(dependencies);
      if (dependencies !== undefined) this.networks?.replaceAll(networkStatesOf(dependencies));
      const assigned = new Map(tasks.map((t) => [t.id, t]));
      for (const taskId of [...this.runners.keys()]) if (!assigned.has(taskId)) this.retire(taskId);
      for (const task of assigned.values()) await this.upsert(task);
      const first = !this.completeSeen;
      this.completeSeen = true;
      this.remembered.clear();
      this.persist();
      this.logger.info({ tasks: assigned.size, first }, "applied the full set of assignments");
      this.track(this.sweep(++this.sweepGeneration));
    });
  }

  /**
   * Changes to the set: UPDATE adds or updates a task, REMOVE forgets it (its container goes);
   * the same for a secret or config (kept for the tasks that use it).
   */
  applyIncremental(changes: readonly AssignmentChange[]): Promise<void> {
    return this.enqueue(async () => {
      for (const change of changes) {
        if (this.dependencies.apply(change)) continue;
        if (change.network !== undefined) {
          this.networks?.apply(change.action, change.network);
          continue;
        }
        const task = change.task;
        if (task === undefined) continue;
        if (change.action === AssignmentAction.REMOVE) this.retire(task.id, task);
        else await this.upsert(task);
      }
      this.persist();
    });
  }

  /**
   * Stops the runners and leaves their containers as they are (running ones keep running);
   * teardowns in progress are abandoned (the next start's sweep finishes them). Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      await this.serial;
      await Promise.all([...this.runners.values()].map((r) => r.close()));
      await Promise.all([...this.background]);
      this.persist();
      await this.saving;
      this.logger.info({ tasks: this.runners.size }, "worker stopped; containers left running");
    })();
    return this.stopped;
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.serial.then(() => (this.stopping.signal.aborted ? undefined : fn()));
    this.serial = next.catch(() => undefined);
    return next;
  }

  private track(promise: Promise<void>): void {
    const tracked = promise
      .catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, "worker background job failed"))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private async adoptSaved(signal?: AbortSignal): Promise<void> {
    const saved = await this.store.load();
    if (saved.length === 0) return;
    let containers: TaskContainer[];
    try {
      containers = await this.executor.list(signal);
    } catch (err: unknown) {
      this.logger.warn({ err: errorMessage(err) }, "cannot list containers; saved tasks wait for the assignments");
      for (const task of saved) this.remembered.set(task.id, task);
      return;
    }
    const present = new Set(containers.map((c) => c.taskId));
    let adopted = 0;
    for (const task of saved) {
      if (this.runners.has(task.id)) continue;
      if (!present.has(task.id)) {
        this.remembered.set(task.id, task);
        continue;
      }
      this.startRunner(task);
      // Known to be the latest: sent on the first session.
      if (task.status !== undefined) this.reporter.report(task.id, task.status);
      adopted++;
    }
    this.logger.info({ adopted, remembered: this.remembered.size }, "adopted the containers of saved tasks");
  }

  private async upsert(task: Task): Promise<void> {
    const runner = this.runners.get(task.id);
    if (runner !== undefined) {
      runner.update(task);
      return;
    }
    // Assigned again while its container was being removed: start over once it is gone.
    const retiring = this.retiring.get(task.id);
    if (retiring !== undefined) await retiring;
    const saved = this.remembered.get(task.id);
    const status = laterStatus(saved?.status, task.status) ?? newStatus();
    const desiredState = Math.max(task.desiredState, saved?.desiredState ?? TaskState.NEW) as TaskState;
    this.startRunner({ ...task, status, desiredState });
    // The manager is behind what this agent saw before it restarted: tell it.
    if (status.state > (task.status?.state ?? TaskState.NEW)) this.reporter.report(task.id, status);
  }

  private startRunner(task: Task): void {
    const node = this.node === undefined ? undefined : { id: this.node, description: this.description };
    const controller = this.executor.controller(task, {
      ports: task.endpoint?.ports ?? [],
      dependencies: this.dependencies,
      node,
    });
    const runner = new TaskRunner(task, controller, {
      clock: this.clock,
      logger: this.logger,
      ...(this.backoff !== undefined ? { backoff: this.backoff } : {}),
      onStatus: (t) => this.onStatus(t),
    });
    this.runners.set(task.id, runner);
    runner.start();
  }

  private onStatus(task: Task): void {
    if (this.runners.get(task.id) === undefined || task.status === undefined) return;
    this.reporter.report(task.id, task.status);
    this.persist();
  }

  /** The task is no longer assigned: stop and remove its container, forget its status. */
  private retire(taskId: string, task?: Task): void {
    const runner = this.runners.get(taskId);
    this.runners.delete(taskId);
    this.remembered.delete(taskId);
    this.reporter.forget(taskId);
    if (this.retiring.has(taskId)) return;
    let done: Promise<void>;
    if (runner !== undefined) done = runner.retire(this.stopping.signal);
    else if (task !== undefined) done = this.teardown(task);
    else return;
    this.logger.info({ taskId }, "task no longer assigned; removing its container");
    const settled = done
      .catch((err: unknown) => this.logger.warn({ taskId, err: errorMessage(err) }, "removing a container failed"))
      .finally(() => this.retiring.delete(taskId));
    this.retiring.set(taskId, settled);
    this.track(settled);
    this.persist();
  }

  private async teardown(task: Task): Promise<void> {
    const controller = this.executor.controller(task);
    try {
      await shutdownAndRemove(controller, this.stopping.signal, {
        clock: this.clock,
        logger: this.logger,
        ...(this.backoff !== undefined ? { backoff: this.backoff } : {}),
      });
    } finally {
      controller.close();
    }
  }

  /** Removes the containers of this node whose task is not assigned (after a full set). */
  private async sweep(generation: number): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, ...this.backoff });
    const signal = this.stopping.signal;
    while (!signal.aborted && generation === this.sweepGeneration) {
      let containers: TaskContainer[];
      try {
        containers = await this.executor.list(signal);
      } catch (err: unknown) {
        if (signal.aborted) return;
        const delay = backoff.next();
        this.logger.warn({ err: errorMessage(err), retryInMs: delay }, "cannot list containers to clean up");
        await this.clock.sleep(delay, signal).catch(() => undefined);
        continue;
      }
      // A newer full set started its own sweep.
      if (generation !== this.sweepGeneration || signal.aborted) return;
      for (const c of containers) {
        if (this.runners.has(c.taskId) || this.retiring.has(c.taskId)) continue;
        if (this.node !== undefined && c.nodeId !== this.node) continue;
        this.logger.info({ taskId: c.taskId, container: c.name }, "container of an unassigned task");
        this.retire(c.taskId, taskOfContainer(c));
      }
      return;
    }
  }

  /** Saves the tasks soon; one save at a time, the changes meanwhile go in the next one. */
  private persist(): void {
    this.saveDirty = true;
    if (this.saving === undefined) this.saving = this.saveLoop();
  }

  private async saveLoop(): Promise<void> {
    await Promise.resolve(); // let the changes of this burst come in
    while (this.saveDirty) {
      this.saveDirty = false;
      const tasks = [...this.tasks(), ...this.remembered.values()];
      try {
        await this.store.save(tasks);
      } catch (err: unknown) {
        this.logger.warn({ err: errorMessage(err) }, "cannot save the assigned tasks");
      }
    }
    this.saving = undefined;
  }
}

/** The networks' states of a full set. */
function networkStatesOf(changes: readonly AssignmentChange[]): NetworkState[] {
  return changes.flatMap((c) => (c.action === AssignmentAction.UPDATE && c.network ? [c.network] : []));
}

/** Enough of a task to find its container again by name and labels (for a teardown). */
function taskOfContainer(c: TaskContainer): Task {
  return Task.fromPartial({
    id: c.taskId,
    serviceId: c.serviceId,
    slot: c.slot,
    nodeId: c.nodeId,
    serviceAnnotations: { name: c.serviceName },
  });
}
