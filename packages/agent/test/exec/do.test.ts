import { HealthState, ManualClock, TaskState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { DaemonUnavailableError, ImagePullError, doTask, FakeExecutor, type StepResult } from "@shoal/agent";
import { makeTask, withState } from "./task-fixture.js";

/** Runs steps until one is a noop (or `max` steps), feeding each status back. */
async function run(task: Task, fake: FakeExecutor, max = 20): Promise<{ task: Task; steps: StepResult[] }> {
  const controller = fake.controller(task);
  const steps: StepResult[] = [];
  for (let i = 0; i < max; i++) {
    const step = await doTask(task, controller, undefined, new ManualClock(1000 + i));
    steps.push(step);
    if (step.outcome !== "advanced") break;
    task = { ...task, status: step.status };
  }
  controller.close();
  return { task, steps };
}

const states = (steps: StepResult[]): TaskState[] => steps.map((s) => s.status.state);

describe("doTask", () => {
  it("takes an assigned task through every state to COMPLETE when it exits 0", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { exitCode: 0 });
    const { task: done, steps } = await run(task, fake);
    expect(states(steps)).toEqual([
      TaskState.ACCEPTED,
      TaskState.PREPARING,
      TaskState.STARTING,
      TaskState.RUNNING,
      TaskState.COMPLETE,
      TaskState.COMPLETE, // then nothing to do
    ]);
    expect(steps.at(-1)!.outcome).toBe("noop");
    expect(done.status!.message).toBe("finished");
    expect(done.status!.containerStatus?.exitCode).toBe(0);
    expect(done.status!.containerStatus?.containerId).toBe(fake.containers.get(task.id)!.containerId);
    expect(fake.calls.map((c) => c.op)).toEqual(expect.arrayContaining(["prepare", "start", "wait"]));
  });

  it("stamps each new status with the clock's time", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const step = await doTask(task, fake.controller(task), undefined, new ManualClock(42_000));
    expect(step.status.timestamp).toEqual(new Date(42_000));
  });

  it("reports FAILED with the exit code when the process exits non-zero", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { exitCode: 3 });
    const { task: done } = await run(task, fake);
    expect(done.status!.state).toBe(TaskState.FAILED);
    expect(done.status!.err).toBe("task: non-zero exit (3)");
    expect(done.status!.containerStatus?.exitCode).toBe(3);
  });

  it("reports FAILED with the OOM flag in the message when killed for memory", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { exitCode: 137, oomKilled: true });
    const { task: done } = await run(task, fake);
    expect(done.status!.state).toBe(TaskState.FAILED);
    expect(done.status!.err).toMatch(/memory limit \(OOM\), exit \(137\)/);
  });

  it("rejects the task when prepare fails for good (e.g. the image cannot be pulled)", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { prepareError: new ImagePullError("nope:1", "pull access denied for nope") });
    const { task: done, steps } = await run(task, fake);
    expect(states(steps)).toEqual([TaskState.ACCEPTED, TaskState.PREPARING, TaskState.REJECTED, TaskState.REJECTED]);
    expect(done.status!.err).toBe("pulling image nope:1: pull access denied for nope");
    expect(fake.containers.has(task.id)).toBe(false);
  });

  it("fails (not rejects) a task whose start fails for good", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    fake.script(task.id, { startError: new Error('exec: "nope": executable file not found') });
    const { task: done } = await run(task, fake);
    expect(done.status!.state).toBe(TaskState.FAILED);
    expect(done.status!.err).toMatch(/executable file not found/);
  });

  it("keeps the state and asks for a retry on a temporary error", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.STARTING);
    fake.script(task.id, { startError: new DaemonUnavailableError("docker daemon unreachable") });
    await fake.controller(task).prepare();
    const step = await doTask(task, fake.controller(task));
    expect(step.outcome).toBe("retry");
    expect(step.status.state).toBe(TaskState.STARTING);
    expect(step.status.err).toBe("docker daemon unreachable");
    expect(step.error).toBeInstanceOf(DaemonUnavailableError);
  });

  it("asks for a retry when the signal aborts a step", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.PREPARING);
    const abort = new AbortController();
    abort.abort();
    const step = await doTask(task, fake.controller(task), abort.signal);
    expect(step.outcome).toBe("retry");
    expect(step.status.state).toBe(TaskState.PREPARING);
  });

  it("shuts a running task down when its desired state is SHUTDOWN, and never goes back", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const controller = fake.controller(task);
    await controller.prepare();
    await controller.start();
    const running = withState(task, TaskState.RUNNING, TaskState.SHUTDOWN);
    const step = await doTask(running, controller);
    expect(step.status.state).toBe(TaskState.SHUTDOWN);
    expect(step.status.message).toBe("shutdown");
    expect(fake.containers.get(task.id)!.state).toBe("exited");
    // A terminal task stays where it is.
    const again = await doTask({ ...running, status: step.status }, controller);
    expect(again.outcome).toBe("noop");
    expect(again.status.state).toBe(TaskState.SHUTDOWN);
  });

  it("reports SHUTDOWN for a task told to stop before it was ever prepared", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.ACCEPTED, TaskState.SHUTDOWN);
    const step = await doTask(task, fake.controller(task));
    expect(step.status.state).toBe(TaskState.SHUTDOWN);
  });

  it("leaves a COMPLETE task alone even when asked to shut it down", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.COMPLETE, TaskState.SHUTDOWN);
    const step = await doTask(task, fake.controller(task));
    expect(step.outcome).toBe("noop");
    expect(fake.calls).toEqual([]);
  });

  it("prepares past the desired state but waits in STARTING until it is beyond", async () => {
    const fake = new FakeExecutor();
    // A task the manager wants only prepared (desired STARTING), e.g. to start it later.
    const task = withState(makeTask(), TaskState.PREPARING, TaskState.STARTING);
    const prepared = await doTask(task, fake.controller(task));
    expect(prepared.status.state).toBe(TaskState.STARTING);
    const waiting = await doTask({ ...task, status: prepared.status }, fake.controller(task));
    expect(waiting.outcome).toBe("noop");
    expect(fake.containers.get(task.id)!.state).toBe("created");
  });

  it("does nothing for a task whose status is beyond its desired state", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.ACCEPTED, TaskState.ASSIGNED);
    expect((await doTask(task, fake.controller(task))).outcome).toBe("noop");
  });

  it("stays STARTING until the health check passes, then runs and reports the health", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.STARTING);
    fake.script(task.id, { healthcheck: true });
    const controller = fake.controller(task);
    await controller.prepare();
    const seen: HealthState[] = [];
    controller.onHealth((h) => seen.push(h));
    const stepping = doTask(task, controller);
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.containers.get(task.id)!.state).toBe("running");
    fake.setHealth(task.id, HealthState.HEALTHY);
    const step = await stepping;
    expect(step.status.state).toBe(TaskState.RUNNING);
    expect(step.status.health).toBe(HealthState.HEALTHY);
    expect(seen).toEqual([HealthState.STARTING, HealthState.HEALTHY]);
  });

  it("fails a running task that turns unhealthy, after stopping it", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.STARTING);
    fake.script(task.id, { healthcheck: true, health: HealthState.HEALTHY });
    const controller = fake.controller(task);
    await controller.prepare();
    const started = await doTask(task, controller);
    expect(started.status.state).toBe(TaskState.RUNNING);
    const waiting = doTask({ ...task, status: started.status }, controller);
    await new Promise((r) => setTimeout(r, 5));
    fake.setHealth(task.id, HealthState.UNHEALTHY);
    const step = await waiting;
    expect(step.status.state).toBe(TaskState.FAILED);
    expect(step.status.err).toBe("task: non-zero exit (143): container unhealthy");
    expect(fake.calls.filter((c) => c.op === "shutdown")).toHaveLength(1);
  });

  it("fails the start of a task whose health check fails before it is ever healthy", async () => {
    const fake = new FakeExecutor();
    const task = withState(makeTask(), TaskState.STARTING);
    fake.script(task.id, { healthcheck: true, health: HealthState.UNHEALTHY });
    const controller = fake.controller(task);
    await controller.prepare();
    const step = await doTask(task, controller);
    expect(step.status.state).toBe(TaskState.FAILED);
    expect(step.status.err).toBe("container unhealthy");
    expect(fake.containers.get(task.id)!.state).toBe("exited");
  });

  it("adopts a container that already runs: start does not start it again", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const first = fake.controller(task);
    await first.prepare();
    await first.start();
    first.close();
    // The agent restarts: the manager still says STARTING (the RUNNING report was lost).
    const second = fake.controller(task);
    const step = await doTask(withState(task, TaskState.STARTING), second);
    expect(step.status.state).toBe(TaskState.RUNNING);
    expect(fake.containers.get(task.id)!.starts).toBe(1);
    expect((await fake.list()).map((c) => c.taskId)).toEqual([task.id]);
  });

  it("reports FAILED when the container is removed behind the agent's back", async () => {
    const fake = new FakeExecutor();
    const task = makeTask();
    const controller = fake.controller(task);
    await controller.prepare();
    await controller.start();
    const waiting = doTask(withState(task, TaskState.RUNNING), controller);
    await new Promise((r) => setTimeout(r, 5));
    fake.destroy(task.id);
    const step = await waiting;
    expect(step.status.state).toBe(TaskState.FAILED);
    expect(step.status.err).toMatch(/does not exist/);
  });
});
