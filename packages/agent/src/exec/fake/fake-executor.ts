// An in-memory Executor for fast, deterministic tests of the agent. Its containers live in a map;
// a test scripts what a task does (fail prepare or start, exit with a code, be killed for memory,
// turn healthy or unhealthy) up front with `script`, or drives it as it runs with `exit` and
// `setHealth`; what an image pull does (and what an inspect of it
// returns) with `images.script`. Controllers decide from the same
// rules as the Docker one (../progress.ts).
import { HealthState, newId, type NodeDescription, type Task } from "@shoal/shared";
import type {
  ContainerRunState,
  ContainerSnapshot,
  Controller,
  ControllerOptions,
  Executor,
  ExecutorEvent,
  ImageInspect,
  PullOptions,
  TaskContainer,
} from "../executor.js";
import type { ResolvedFile } from "../../secrets/references.js";
import { serviceName } from "../task-name.js";
import { FakeController } from "./fake-controller.js";
import { FakeImages } from "./fake-images.js";

/** What a task's fake container does. Everything is optional: by default it runs until stopped. */
export interface FakeTaskScript {
  /** prepare rejects with this (e.g. an ImagePullError). */
  readonly prepareError?: Error;
  /** start rejects with this (e.g. a DaemonUnavailableError). */
  readonly startError?: Error;
  /** The process exits with this code right after it starts. */
  readonly exitCode?: number;
  /** With exitCode: the kernel killed it for memory. */
  readonly oomKilled?: boolean;
  /** The container has a health check: health starts as STARTING. */
  readonly healthcheck?: boolean;
  /** With healthcheck: the health the check reports right after start. */
  readonly health?: HealthState.HEALTHY | HealthState.UNHEALTHY;
  /** Exit code after shutdown (the stop signal); default 143 (SIGTERM). */
  readonly stopExitCode?: number;
}

export interface FakeContainer {
  readonly containerId: string;
  readonly name: string;
  readonly task: Task;
  state: ContainerRunState;
  exitCode: number;
  oomKilled: boolean;
  health: HealthState;
  pid: number;
  /** How many times it was started: adoption tests check it stays 1. */
  starts: number;
}

export interface FakeCall {
  readonly taskId: string;
  readonly op: "prepare" | "start" | "wait" | "shutdown" | "terminate" | "remove" | "inspect";
}

export interface FakeExecutorOptions {
  readonly description?: NodeDescription;
}

export class FakeExecutor implements Executor {
  /** The containers by task id. */
  readonly containers = new Map<string, FakeContainer>();
  /** The files of each task's secrets and configs, with their data, as its prepare found them. */
  readonly files = new Map<string, ResolvedFile[]>();
  /** Every controller call, in order. */
  readonly calls: FakeCall[] = [];
  /** The images on the fake host and the pulls asked for (script what a pull does here). */
  readonly images = new FakeImages();
  private readonly scripts = new Map<string, FakeTaskScript>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly listeners = new Set<(event: ExecutorEvent) => void>();
  private readonly description: NodeDescription;
  private nextPid = 100;

  constructor(options: FakeExecutorOptions = {}) {
    this.description = options.description ?? {
      hostname: "fake-host",
      platform: { os: "linux", architecture: "amd64" },
      resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30, pids: 0, generic: [] },
      engine: { engineVersion: "fake", labels: {}, plugins: [{ type: "Volume", name: "local" }] },
      dataPathAddr: "",
      networkDataPlane: true,
    };
  }

  /** Sets what the task's container will do. */
  script(taskId: string, script: FakeTaskScript): void {
    this.scripts.set(taskId, script);
  }

  scriptOf(taskId: string): FakeTaskScript {
    return this.scripts.get(taskId) ?? {};
  }

  async describe(signal?: AbortSignal): Promise<NodeDescription> {
    signal?.throwIfAborted();
    return structuredClone(this.description);
  }

  controller(task: Task, options: ControllerOptions = {}): Controller {
    return new FakeController(task, this, options.dependencies);
  }

  async list(signal?: AbortSignal): Promise<TaskContainer[]> {
    signal?.throwIfAborted();
    return [...this.containers.values()].map((c) => ({
      containerId: c.containerId,
      name: c.name,
      taskId: c.task.id,
      serviceId: c.task.serviceId,
      serviceName: serviceName(c.task),
      nodeId: c.task.nodeId,
      slot: c.task.slot,
      state: c.state,
      image: c.task.spec?.container?.image ?? "",
      labels: {},
    }));
  }

  pull(image: string, options?: PullOptions): Promise<void> {
    return this.images.pull(image, options);
  }

  inspectImage(image: string, signal?: AbortSignal): Promise<ImageInspect | undefined> {
    return this.images.inspect(image, signal);
  }

  subscribe(listener: (event: ExecutorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Makes the task's running container exit now. */
  exit(taskId: string, exitCode: number, options: { readonly oomKilled?: boolean } = {}): void {
    const c = this.require(taskId);
    if (c.state !== "running") return;
    c.state = "exited";
    c.exitCode = exitCode;
    c.oomKilled = options.oomKilled ?? false;
    c.pid = 0;
    if (c.oomKilled) this.emit(c, "oom");
    this.emit(c, "die", { exitCode });
  }

  /** Sets the health the task's container reports. */
  setHealth(taskId: string, health: HealthState): void {
    const c = this.require(taskId);
    if (c.health === health) return;
    c.health = health;
    this.emit(c, "health_status", { health });
  }

  /** Removes the container behind the agent's back. */
  destroy(taskId: string): void {
    const c = this.containers.get(taskId);
    if (c === undefined) return;
    this.containers.delete(taskId);
    this.emit(c, "destroy");
  }

  // The operations below are the fake daemon; FakeController calls them.

  /** @internal */
  create(task: Task, name: string): FakeContainer {
    const script = this.scriptOf(task.id);
    const c: FakeContainer = {
      containerId: newId(),
      name,
      task,
      state: "created",
      exitCode: 0,
      oomKilled: false,
      health: script.healthcheck === true ? HealthState.UNKNOWN : HealthState.NONE,
      pid: 0,
      starts: 0,
    };
    this.containers.set(task.id, c);
    this.emit(c, "create");
    return c;
  }

  /** @internal */
  start(c: FakeContainer): void {
    const script = this.scriptOf(c.task.id);
    c.state = "running";
    c.starts++;
    c.pid = this.nextPid++;
    if (script.healthcheck === true) c.health = HealthState.STARTING;
    this.emit(c, "start");
    if (script.exitCode !== undefined) {
      this.exit(c.task.id, script.exitCode, script.oomKilled === undefined ? {} : { oomKilled: script.oomKilled });
    } else if (script.healthcheck === true && script.health !== undefined) {
      this.setHealth(c.task.id, script.health);
    }
  }

  /** @internal */
  stop(c: FakeContainer, exitCode: number): void {
    if (c.state === "running") this.exit(c.task.id, exitCode);
  }

  /** @internal */
  remove(c: FakeContainer): void {
    this.destroy(c.task.id);
  }

  /** @internal */
  snapshot(taskId: string): ContainerSnapshot | undefined {
    const c = this.containers.get(taskId);
    if (c === undefined) return undefined;
    return {
      containerId: c.containerId,
      state: c.state,
      running: c.state === "running",
      exitCode: c.exitCode,
      oomKilled: c.oomKilled,
      health: c.health,
      error: "",
      pid: c.pid,
    };
  }

  /** @internal Calls `fn` after each change to the task's container. */
  watch(taskId: string, fn: () => void): () => void {
    let set = this.watchers.get(taskId);
    if (set === undefined) this.watchers.set(taskId, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** @internal */
  record(taskId: string, op: FakeCall["op"]): void {
    this.calls.push({ taskId, op });
  }

  private require(taskId: string): FakeContainer {
    const c = this.containers.get(taskId);
    if (c === undefined) throw new Error(`fake executor: no container for task ${taskId}`);
    return c;
  }

  private emit(
    c: FakeContainer,
    action: string,
    extra: { readonly exitCode?: number; readonly health?: HealthState } = {},
  ): void {
    const event: ExecutorEvent = { taskId: c.task.id, containerId: c.containerId, action, ...extra };
    for (const fn of this.watchers.get(c.task.id) ?? []) fn();
    for (const listener of this.listeners) listener(event);
  }
}
