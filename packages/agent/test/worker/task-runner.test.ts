import { DaemonUnavailableError, FakeExecutor } from "@shoal/agent";
import { HealthState, TaskState, silentLogger, systemClock, type Task } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { TaskRunner } from "../../src/worker/task-runner.js";
import { makeTask, withState } from "../exec/task-fixture.js";

const runners: TaskRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});

function runner(fake: FakeExecutor, task: Task): { runner: TaskRunner; seen: Task[] } {
  const seen: Task[] = [];
  const r = new TaskRunner(task, fake.controller(task), {
    clock: systemClock,
    logger: silentLogger(),
    backoff: { initialMs: 1, maxMs: 5 },
    onStatus: (t) => seen.push(t),
  });
  runners.push(r);
  r.start();
  return { runner: r, seen };
}

const states = (seen: Task[]): TaskState[] => seen.map((t) => t.status!.state);
const lastState = (seen: Task[]): TaskState | undefined => seen.at(-1)?.status?.state;

describe("TaskRunner", () => {
  it("takes an assigned task to RUNNING and reports each state", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    expect(states(seen)).toEqual([TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING]);
    const c = fake.containers.get(task.id)!;
    expect(c.state).toBe("running");
    expect(r.task.status!.containerStatus?.containerId).toBe(c.containerId);
    expect(r.task.status!.health).toBe(HealthState.NONE);
  });

  it("reports FAILED with the exit code when the process exits non-zero", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { exitCode: 3 });
    const { seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.FAILED);
    const status = seen.at(-1)!.status!;
    expect(status.containerStatus?.exitCode).toBe(3);
    expect(status.err).toBe("task: non-zero exit (3)");
  });

  it("reports COMPLETE when the process exits 0", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { exitCode: 0 });
    const { seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.COMPLETE);
  });

  it("keeps a task with a health check STARTING until healthy, forwards health, and fails it when unhealthy", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { healthcheck: true });
    const { seen } = runner(fake, task);
    await expect.poll(() => seen.at(-1)?.status?.health).toBe(HealthState.STARTING);
    expect(lastState(seen)).toBe(TaskState.STARTING);

    fake.setHealth(task.id, HealthState.HEALTHY);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    expect(seen.at(-1)!.status!.health).toBe(HealthState.HEALTHY);

    fake.setHealth(task.id, HealthState.UNHEALTHY);
    await expect.poll(() => lastState(seen)).toBe(TaskState.FAILED);
    // The change of health was reported while RUNNING, before the failure.
    expect(seen.some((t) => t.status!.state === TaskState.RUNNING && t.status!.health === HealthState.UNHEALTHY)).toBe(
      true,
    );
    const failed = seen.at(-1)!.status!;
    expect(failed.health).toBe(HealthState.UNHEALTHY);
    expect(failed.err).toContain("unhealthy");
    expect(failed.containerStatus?.exitCode).toBe(143);
    expect(fake.containers.get(task.id)!.state).toBe("exited");
  });

  it("fails a task whose health check never passes while starting", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { healthcheck: true, health: HealthState.UNHEALTHY });
    const { seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.FAILED);
    expect(seen.at(-1)!.status!.err).toBe("container unhealthy");
  });

  it("interrupts a running task when the desired state rises to SHUTDOWN, and keeps the container", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    r.update({ ...task, desiredState: TaskState.SHUTDOWN });
    await expect.poll(() => lastState(seen)).toBe(TaskState.SHUTDOWN);
    expect(fake.containers.get(task.id)!.state).toBe("exited");
  });

  it("interrupts a task waiting to be healthy when it is to be removed, and removes the container", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { healthcheck: true });
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => seen.at(-1)?.status?.health).toBe(HealthState.STARTING);
    r.update({ ...task, desiredState: TaskState.REMOVE });
    await expect.poll(() => fake.containers.has(task.id)).toBe(false);
    expect(lastState(seen)).toBe(TaskState.SHUTDOWN);
  });

  it("shuts down a task that is to be shut down before it started, without making a container", async () => {
    const fake = new FakeExecutor();
    const task = makeTask({ desiredState: TaskState.SHUTDOWN });
    const { seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.SHUTDOWN);
    expect(fake.containers.has(task.id)).toBe(false);
  });

  it("retries a step that hit a temporary error, reporting the error meanwhile", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { startError: new DaemonUnavailableError("docker is away") });
    const { seen } = runner(fake, task);
    await expect.poll(() => seen.at(-1)?.status?.err).toBe("docker is away");
    expect(lastState(seen)).toBe(TaskState.STARTING);
    fake.script(task.id, {});
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    expect(seen.at(-1)!.status!.err).toBe("");
  });

  it("never goes backwards when the manager's copy is behind", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    const count = seen.length;
    r.update(withState(task, TaskState.ASSIGNED));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.task.status!.state).toBe(TaskState.RUNNING);
    expect(seen.length).toBe(count);
    expect(fake.containers.get(task.id)!.starts).toBe(1);
  });

  it("attaches to a running container without starting another, whatever state the manager last saw", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const first = runner(fake, task);
    await expect.poll(() => lastState(first.seen)).toBe(TaskState.RUNNING);
    await first.runner.close();
    expect(fake.containers.get(task.id)!.state).toBe("running"); // close leaves it running

    // The manager never heard past ASSIGNED.
    const second = runner(fake, withState(task, TaskState.ASSIGNED));
    await expect.poll(() => lastState(second.seen)).toBe(TaskState.RUNNING);
    // And one that knew it was RUNNING waits on it.
    await second.runner.close();
    const third = runner(fake, first.runner.task);
    fake.exit(task.id, 7);
    await expect.poll(() => lastState(third.seen)).toBe(TaskState.FAILED);
    expect(third.seen.at(-1)!.status!.containerStatus?.exitCode).toBe(7);
    expect(fake.containers.get(task.id)!.starts).toBe(1);
  });

  it("stops the container of a task the manager says has ended (e.g. orphaned)", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    r.update({ ...withState(task, TaskState.ORPHANED), desiredState: TaskState.SHUTDOWN });
    await expect.poll(() => fake.containers.get(task.id)!.state).toBe("exited");
    expect(r.task.status!.state).toBe(TaskState.ORPHANED);
    expect(lastState(seen)).toBe(TaskState.RUNNING); // the manager's word is not reported back
  });

  it("retires: stops and removes the container", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const { runner: r, seen } = runner(fake, task);
    await expect.poll(() => lastState(seen)).toBe(TaskState.RUNNING);
    await r.retire(new AbortController().signal);
    expect(fake.containers.has(task.id)).toBe(false);
    const ops = fake.calls.filter((c) => c.taskId === task.id).map((c) => c.op);
    expect(ops.slice(-2)).toEqual(["shutdown", "remove"]);
  });
});
