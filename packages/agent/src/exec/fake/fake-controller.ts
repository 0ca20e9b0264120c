// The Controller of a FakeExecutor's container: the same steps and rules as the Docker one.
import { HealthState, raceAbort, type Task } from "@shoal/shared";
import { ContainerUnhealthyError } from "../errors.js";
import type { ContainerSnapshot, Controller, ExitStatus } from "../executor.js";
import { containerName } from "../task-name.js";
import { containerGone, controllerClosed, startProgress, waitProgress } from "../progress.js";
import type { FakeCall, FakeContainer, FakeExecutor } from "./fake-executor.js";
import type { Dependencies } from "../../secrets/dependency-store.js";
import { resolveTaskFiles } from "../../secrets/references.js";

export class FakeController implements Controller {
  readonly taskId: string;
  readonly name: string;
  private healthNow: HealthState = HealthState.UNKNOWN;
  private readonly healthListeners = new Set<(health: HealthState) => void>();
  private waiters = new Set<(err?: Error) => void>();
  private readonly unwatch: () => void;
  private closed = false;

  constructor(
    private readonly task: Task,
    private readonly fake: FakeExecutor,
    private readonly dependencies?: Dependencies,
  ) {
    this.taskId = task.id;
    this.name = containerName(task);
    this.unwatch = fake.watch(task.id, () => this.changed());
    this.healthNow = fake.snapshot(task.id)?.health ?? HealthState.UNKNOWN;
  }

  get health(): HealthState {
    return this.healthNow;
  }

  onHealth(listener: (health: HealthState) => void): () => void {
    this.healthListeners.add(listener);
    return () => this.healthListeners.delete(listener);
  }

  async prepare(signal?: AbortSignal): Promise<void> {
    this.enter("prepare", signal);
    await Promise.resolve();
    const error = this.fake.scriptOf(this.taskId).prepareError;
    if (error !== undefined) throw error;
    if (this.container() !== undefined) return;
    // As the Docker controller: a secret or config the node lacks fails the task.
    this.fake.files.set(this.taskId, resolveTaskFiles(this.task, this.dependencies));
    this.fake.create(this.task, this.name);
  }

  async start(signal?: AbortSignal): Promise<void> {
    this.enter("start", signal);
    await Promise.resolve();
    const c = this.container();
    if (c === undefined) throw containerGone("start", `container ${this.name}`);
    const error = this.fake.scriptOf(this.taskId).startError;
    if (error !== undefined) throw error;
    if (c.state === "created") this.fake.start(c);
    for (;;) {
      const now = this.snapshot();
      if (now === undefined) throw containerGone("start", `container ${this.name}`);
      const progress = startProgress(now);
      if (progress === "started") return;
      if (progress === "unhealthy") {
        await this.shutdown(signal);
        throw new ContainerUnhealthyError();
      }
      await this.nextChange(signal);
    }
  }

  async wait(signal?: AbortSignal): Promise<ExitStatus> {
    this.enter("wait", signal);
    let unhealthy: ContainerUnhealthyError | undefined;
    for (;;) {
      const progress = waitProgress(this.snapshot(), { unhealthy });
      switch (progress.kind) {
        case "exited":
          return progress.exit;
        case "failed":
          throw progress.error;
        case "stop-unhealthy":
          unhealthy = new ContainerUnhealthyError();
          void this.shutdown();
          continue;
        case "waiting":
          await this.nextChange(signal);
      }
    }
  }

  async shutdown(signal?: AbortSignal): Promise<void> {
    this.enter("shutdown", signal);
    await Promise.resolve();
    const c = this.container();
    if (c !== undefined) this.fake.stop(c, this.fake.scriptOf(this.taskId).stopExitCode ?? 143);
  }

  async terminate(signal?: AbortSignal): Promise<void> {
    this.enter("terminate", signal);
    await Promise.resolve();
    const c = this.container();
    if (c !== undefined) this.fake.stop(c, 137);
  }

  async remove(signal?: AbortSignal): Promise<void> {
    this.enter("remove", signal);
    await Promise.resolve();
    const c = this.container();
    if (c !== undefined) this.fake.remove(c);
  }

  async inspect(signal?: AbortSignal): Promise<ContainerSnapshot | undefined> {
    this.enter("inspect", signal);
    await Promise.resolve();
    return this.snapshot();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.healthListeners.clear();
    this.wake(controllerClosed());
  }

  private enter(op: FakeCall["op"], signal?: AbortSignal): void {
    signal?.throwIfAborted();
    if (this.closed) throw controllerClosed();
    this.fake.record(this.taskId, op);
  }

  private container(): FakeContainer | undefined {
    return this.fake.containers.get(this.taskId);
  }

  private snapshot(): ContainerSnapshot | undefined {
    return this.fake.snapshot(this.taskId);
  }

  private changed(): void {
    const health = this.snapshot()?.health ?? HealthState.UNKNOWN;
    if (health !== this.healthNow) {
      this.healthNow = health;
      for (const listener of this.healthListeners) listener(health);
    }
    this.wake();
  }

  private wake(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const waiter of waiters) waiter(err);
  }

  private nextChange(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(controllerClosed());
    return raceAbort(
      new Promise<void>((resolve, reject) => {
        this.waiters.add((err) => (err === undefined ? resolve() : reject(err)));
      }),
      signal,
    );
  }
}
