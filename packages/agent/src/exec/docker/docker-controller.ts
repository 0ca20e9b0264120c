// The Controller of one task's container on a Docker daemon.
//
// The container is found by its name (`<service>.<slot>.<task id>`, checked against its task id
// label), so a controller made for a task whose container exists (an agent that restarted)
// simply attaches to it. What the container is doing is learnt from the executor's event stream,
// never by polling: each event about this task (or a reconnection of the stream) triggers one
// inspect, whose result is the truth; waiters look at it after each change. start and wait
// subscribe first and inspect second, so an event that happens in between is not lost. An exit
// 137 with no word of OOM waits a short while for the container's oom event (oom-watch.ts).
import {
  ErrorCode,
  HealthState,
  errorMessage,
  raceAbort,
  systemClock,
  withDeadline,
  type Clock,
  type Logger,
  type PortConfig,
  type Task,
} from "@shoal/shared";
import type Docker from "dockerode";
import type { ContainerInspectInfo } from "dockerode";
import { ContainerUnhealthyError, ExecError, ExecErrorReason, TaskExitError } from "../errors.js";
import type { ContainerSnapshot, Controller, ExitStatus } from "../executor.js";
import { containerGone, controllerClosed, startProgress, waitProgress } from "../progress.js";
import { containerName } from "../task-name.js";
import { expandTaskTemplates, type TemplateNode } from "../template.js";
import { containerConfig, stopGraceMs } from "./container-config.js";
import { mountCreateError } from "./container-config-mounts.js";
import { withTaskFiles } from "./container-config-secrets.js";
import { connectNetworks, taskNetworks, withNetworks } from "./container-config-networks.js";
import type { NetworkReadiness } from "../host-networks.js";
import { abortOption, classifyDockerError, isConflict, isNotFound, isNotModified } from "./docker-errors.js";
import type { DockerEvent, TaskEventSource } from "./event-stream.js";
import { ensureImage } from "./image-pull.js";
import { TaskLabel } from "./labels.js";
import { OomWatch } from "./oom-watch.js";
import { snapshotOf } from "./snapshot.js";
import { StartLimit } from "./start-limit.js";
import type { Dependencies } from "../../secrets/dependency-store.js";
import { writeTaskFiles, type TaskFile, type TaskFiles } from "../../secrets/task-files.js";

/**
 * How long a container that exited 137 (SIGKILL) with no word of OOM is given for its oom event
 * to arrive, at most. The event comes within milliseconds of `die` when it comes at all; this
 * leaves room for a loaded host and bounds how late a plain SIGKILL is reported.
 */
export const OOM_EVENT_WAIT_MS = 1_000;

/** Exit 137 (SIGKILL) without the OOM flag: perhaps an OOM kill whose oom event is on its way. */
function isUnexplainedKill(err: Error): boolean {
  return err instanceof TaskExitError && err.exitCode === 137 && !err.oomKilled;
}

/** How long a background inspect (one triggered by an event) may take. */
const INSPECT_TIMEOUT_MS = 30_000;

export interface DockerControllerDeps {
  readonly docker: Docker;
  readonly events: TaskEventSource;
  readonly logger: Logger;
  /** Times the wait for a late oom event; the system clock by default. */
  readonly clock?: Clock;
  readonly ports?: readonly PortConfig[];
  /** This node, for the task's templates. */
  readonly node?: TemplateNode;
  /** Where the files of the task's secrets and configs go; without it, tasks that use them fail. */
  readonly files?: TaskFiles | undefined;
  /** The secrets and configs this node holds. */
  readonly dependencies?: Dependencies | undefined;
  /** Called once when the controller is closed. */
  readonly onClose?: (controller: DockerController) => void;
  /** The host's data plane, which a task with networks waits for (none: such tasks fail). */
  readonly networks?: () => NetworkReadiness | undefined;
  /** The slots for starts that the executor's controllers share (default: this controller's own). */
  readonly starts?: StartLimit;
}

export class DockerController implements Controller {
  readonly taskId: string;
  readonly name: string;
  private readonly docker: Docker;
  private readonly events: TaskEventSource;
  private readonly logger: Logger;
  private readonly ports: readonly PortConfig[];
  private readonly node: TemplateNode | undefined;
  private readonly files: TaskFiles | undefined;
  private readonly dependencies: Dependencies | undefined;
  /** Whether this controller wrote the task's files (else start writes them for a created container). */
  private filesWritten = false;

  /** The last inspect's result; undefined when there is no container (or nothing known yet). */
  private snapshot: ContainerSnapshot | undefined;
  /** The exit code of the last die event, for a container removed before it could be inspected. */
  private lastDieExitCode: number | undefined;
  private readonly oom: OomWatch;
  private healthNow: HealthState = HealthState.UNKNOWN;
  private readonly healthListeners = new Set<(health: HealthState) => void>();
  private changeWaiters = new Set<(err?: Error) => void>();
  private inflight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly onClose: ((controller: DockerController) => void) | undefined;
  private readonly networks: (() => NetworkReadiness | undefined) | undefined;
  private readonly starts: StartLimit;

  constructor(
    private readonly task: Task,
    deps: DockerControllerDeps,
  ) {
    this.taskId = task.id;
    this.name = containerName(task);
    this.docker = deps.docker;
    this.events = deps.events;
    this.ports = deps.ports ?? [];
    this.node = deps.node;
    this.files = deps.files;
    this.dependencies = deps.dependencies;
    this.onClose = deps.onClose;
    this.networks = deps.networks;
    const clock = deps.clock ?? systemClock;
    this.oom = new OomWatch(clock);
    this.starts = deps.starts ?? new StartLimit({ now: () => clock.now() });
    this.logger = deps.logger.child({ taskId: task.id, container: this.name });
  }

  get health(): HealthState {
    return this.healthNow;
  }

  onHealth(listener: (health: HealthState) => void): () => void {
    this.subscribe();
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  async prepare(signal?: AbortSignal): Promise<void> {
    const existing = await this.inspectByName(signal);
    if (existing !== undefined) {
      this.adopt(existing);
      return;
    }
    const config = containerConfig(expandTaskTemplates(this.task, this.node), this.ports);
    await ensureImage(this.docker, config.Image ?? "", this.logger, signal);
    const networks = await taskNetworks(this.task, this.networks?.(), signal);
    const files = await this.writeFiles(); // (a failed create leaves them to shutdown or remove)
    try {
      const body = withNetworks(withTaskFiles(config, files), networks);
      await this.docker.createContainer({ ...body, ...abortOption(signal) });
      await connectNetworks(this.docker, this.name, networks, signal);
      this.logger.info("created container");
    } catch (err: unknown) {
      // Another prepare of the same task may have won the race for the name.
      const again = isConflict(err) ? await this.inspectByName(signal) : undefined;
      if (again === undefined) {
        throw mountCreateError(this.task, err) ?? classifyDockerError(err, `creating container ${this.name}`);
      }
      this.adopt(again);
    }
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.watch(signal);
    await raceAbort(this.refresh(), signal);
    const before = this.requireContainer("start");
    if (before.state === "created") {
      if (!this.filesWritten) await this.writeFiles();
      try {
        const call = (): Promise<unknown> => this.container().start(abortOption(signal));
        const { queuedMs, callMs } = await this.starts.run(call, signal);
        this.logger.info({ queuedMs, startMs: callMs }, "started container");
      } catch (err: unknown) {
        if (!isNotModified(err)) throw classifyDockerError(err, `starting container ${this.name}`);
      }
      await raceAbort(this.refresh(), signal);
    }
    // With a health check, the task is started once it is healthy (as in Docker Swarm).
    for (;;) {
      const progress = startProgress(this.requireContainer("start"));
      if (progress === "started") return;
      if (progress === "unhealthy") {
        await this.shutdown(signal).catch((err: unknown) =>
          this.logger.warn({ err: errorMessage(err) }, "stopping unhealthy container failed"),
        );
        throw new ContainerUnhealthyError();
      }
      await this.nextChange(signal);
    }
  }

  async wait(signal?: AbortSignal): Promise<ExitStatus> {
    this.watch(signal);
    await raceAbort(this.refresh(), signal);
    let unhealthy: ContainerUnhealthyError | undefined;
    let oomWaited = false;
    for (;;) {
      const progress = waitProgress(this.snapshot, {
        unhealthy,
        lastExitCode: this.lastDieExitCode,
        oomSeen: this.oom.seen,
      });
      switch (progress.kind) {
        case "exited":
          await this.releaseFiles();
          return progress.exit;
        case "failed":
          // Killed by SIGKILL (137) with no word of OOM: the oom event may be on its way.
          if (isUnexplainedKill(progress.error) && !oomWaited) {
            oomWaited = true;
            const evented = await this.oom.within(OOM_EVENT_WAIT_MS, signal);
            // No event: one more look, for a daemon that records OOMKilled without one.
            if (!evented) await raceAbort(this.refresh(), signal);
            continue;
          }
          await this.releaseFiles();
          throw progress.error;
        case "stop-unhealthy":
          // As Docker Swarm does: an unhealthy task is stopped, and fails.
          unhealthy = new ContainerUnhealthyError();
          this.logger.warn("container unhealthy; stopping it");
          this.shutdown().catch((err: unknown) =>
            this.logger.warn({ err: errorMessage(err) }, "stopping unhealthy container failed"),
          );
          break;
        case "waiting":
          break;
      }
      await this.nextChange(signal);
    }
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    const t = Math.ceil(stopGraceMs(this.task) / 1000);
    try {
      await this.container().stop({ t, ...abortOption(signal) });
      this.logger.info({ graceSeconds: t }, "stopped container");
    } catch (err: unknown) {
      if (!isNotModified(err) && !isNotFound(err)) throw classifyDockerError(err, `stopping container ${this.name}`);
    }
    await this.releaseFiles();
  }

  async terminate(signal?: AbortSignal): Promise<void> {
    try {
      await this.container().kill({ signal: "SIGKILL", ...abortOption(signal) });
    } catch (err: unknown) {
      if (isNotFound(err) || isConflict(err)) return; // gone, or not running
      throw classifyDockerError(err, `killing container ${this.name}`);
    }
  }

  async remove(signal?: AbortSignal): Promise<void> {
    try {
      await this.container().remove({ force: true, v: true, ...abortOption(signal) });
      this.logger.info("removed container");
    } catch (err: unknown) {
      // Gone, or being removed already.
      if (!isNotFound(err) && !isConflict(err)) throw classifyDockerError(err, `removing container ${this.name}`);
    }
    await this.releaseFiles();
  }

  async inspect(signal?: AbortSignal): Promise<ContainerSnapshot | undefined> {
    await raceAbort(this.refresh(), signal);
    return this.snapshot;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.healthListeners.clear();
    this.oom.close();
    this.wake(controllerClosed());
    this.onClose?.(this);
  }

  /** Writes the files of the task's secrets and configs (none: nothing). */
  private async writeFiles(): Promise<TaskFile[]> {
    const files = await writeTaskFiles(this.files, this.task, this.dependencies);
    this.filesWritten = true;
    return files;
  }

  /** Removes the task's files: its container no longer runs (and never will again). */
  private async releaseFiles(): Promise<void> {
    await this.files?.release(this.task);
  }

  private container(): Docker.Container {
    return this.docker.getContainer(this.name);
  }

  /** The container named for this task, when it exists and belongs to this task. */
  private async inspectByName(signal?: AbortSignal): Promise<ContainerInspectInfo | undefined> {
    let info: ContainerInspectInfo;
    try {
      info = await this.container().inspect(abortOption(signal));
    } catch (err: unknown) {
      if (isNotFound(err)) return undefined;
      throw classifyDockerError(err, `inspecting container ${this.name}`);
    }
    const owner = info.Config.Labels?.[TaskLabel.taskId];
    if (owner !== this.taskId) {
      throw new ExecError(
        ErrorCode.AlreadyExists,
        ExecErrorReason.ContainerState,
        `container name ${this.name} is taken by a container of ${owner === undefined ? "no task" : `task ${owner}`}`,
      );
    }
    return info;
  }

  private adopt(info: ContainerInspectInfo): void {
    this.logger.info({ containerId: info.Id, state: info.State.Status }, "found the task's container");
    this.update(snapshotOf(info));
  }

  private requireContainer(step: string): ContainerSnapshot {
    if (this.snapshot === undefined) throw this.gone(step);
    return this.snapshot;
  }

  private gone(step: string): ExecError {
    return containerGone(step, `container ${this.name}`);
  }

  /**
   * Subscribes to the task's events (once). The caller inspects next: a change after the
   * subscription is then either seen by that inspect or announced by an event; and should the
   * stream not be connected yet, its connection triggers another inspect (resync).
   */
  private watch(signal?: AbortSignal): void {
    signal?.throwIfAborted();
    if (this.closed) throw controllerClosed();
    this.subscribe();
  }

  private subscribe(): void {
    if (this.unsubscribe !== undefined || this.closed) return;
    this.unsubscribe = this.events.subscribeTask(this.taskId, {
      onEvent: (event) => this.onEvent(event),
      onResync: () => this.refreshInBackground("resync"),
    });
  }

  private onEvent(event: DockerEvent): void {
    if (event.action === "die") {
      const code = Number(event.attributes["exitCode"]);
      if (Number.isInteger(code)) this.lastDieExitCode = code;
    } else if (event.action === "oom") {
      this.oom.record();
    }
    this.refreshInBackground(event.action);
  }

  private refreshInBackground(why: string): void {
    this.refresh().catch((err: unknown) =>
      this.logger.debug({ err: errorMessage(err), why }, "inspect after an event failed"),
    );
  }

  /** Inspects the container; concurrent calls share the inspect in flight and queue at most one more. */
  private refresh(): Promise<void> {
    if (this.inflight === undefined) {
      this.inflight = this.inspectOnce().finally(() => (this.inflight = undefined));
      return this.inflight;
    }
    this.queued ??= this.inflight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  private async inspectOnce(): Promise<void> {
    let info: ContainerInspectInfo | undefined;
    try {
      info = await this.inspectByName(withDeadline(INSPECT_TIMEOUT_MS));
    } catch (err: unknown) {
      this.wake();
      throw err;
    }
    this.update(info === undefined ? undefined : snapshotOf(info));
  }

  private update(snapshot: ContainerSnapshot | undefined): void {
    this.snapshot = snapshot;
    const health = snapshot?.health ?? HealthState.UNKNOWN;
    if (health !== this.healthNow) {
      this.healthNow = health;
      this.logger.debug({ health: HealthState[health] }, "health changed");
      for (const listener of this.healthListeners) listener(health);
    }
    this.wake();
  }

  private wake(err?: Error): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = new Set();
    for (const waiter of waiters) waiter(err);
  }

  /** Resolves after the next inspect (or failed inspect); rejects when `signal` aborts. */
  private nextChange(signal?: AbortSignal): Promise<void> {
    if (this.closed) {
      return Promise.reject(controllerClosed());
    }
    return raceAbort(
      new Promise<void>((resolve, reject) => {
        this.changeWaiters.add((err) => (err === undefined ? resolve() : reject(err)));
      }),
      signal,
    );
  }
}
