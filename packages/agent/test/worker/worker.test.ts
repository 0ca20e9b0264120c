import { FakeExecutor } from "@shoal/agent";
import {
  AssignmentAction,
  AssignmentsType,
  HealthState,
  TaskState,
  silentLogger,
  type AssignmentChange,
  type Task,
} from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryTaskStore } from "../../src/worker/task-store.js";
import { Worker } from "../../src/worker/worker.js";
import { makeTask, withState } from "../exec/task-fixture.js";
import { RecordingSink } from "./recording-sink.js";

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

function worker(
  fake: FakeExecutor,
  store = new MemoryTaskStore(),
  nodeId = "node-1",
): { w: Worker; sink: RecordingSink } {
  const sink = new RecordingSink();
  const w = new Worker({
    executor: fake,
    reporter: sink,
    logger: silentLogger(),
    store,
    nodeId,
    backoff: { initialMs: 1, maxMs: 5 },
  });
  workers.push(w);
  return { w, sink };
}

const update = (task: Task): AssignmentChange => ({
  action: AssignmentAction.UPDATE,
  task,
  secret: undefined,
  config: undefined,
  network: undefined,
});
const remove = (task: Task): AssignmentChange => ({
  action: AssignmentAction.REMOVE,
  task,
  secret: undefined,
  config: undefined,
  network: undefined,
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("Worker", () => {
  it("starts the tasks of a full set and reports ASSIGNED -> ... -> RUNNING", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    const b = makeTask({ slot: 2 });
    await w.apply({
      type: AssignmentsType.COMPLETE,
      appliesTo: "",
      resultsIn: "set1",
      changes: [update(a), update(b)],
    });
    for (const t of [a, b]) {
      await expect.poll(() => sink.last(t.id)?.state).toBe(TaskState.RUNNING);
      expect(sink.states(t.id)).toEqual([
        TaskState.ACCEPTED,
        TaskState.PREPARING,
        TaskState.STARTING,
        TaskState.RUNNING,
      ]);
      expect(fake.containers.get(t.id)!.state).toBe("running");
    }
    expect(w.hasCompleteSet).toBe(true);
    expect(
      w
        .tasks()
        .map((t) => t.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());
  });

  it("stops a task whose desired state becomes SHUTDOWN and keeps reporting it", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    await w.applyComplete([a]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await w.applyIncremental([update({ ...a, desiredState: TaskState.SHUTDOWN })]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.SHUTDOWN);
    expect(fake.containers.get(a.id)!.state).toBe("exited");
    expect(sink.forgotten).toEqual([]);
  });

  it("stops and removes the container of a task removed from the set (incremental REMOVE)", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    const b = makeTask({ slot: 2 });
    await w.applyComplete([a, b]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await w.applyIncremental([remove(a)]);
    await expect.poll(() => fake.containers.has(a.id)).toBe(false);
    expect(sink.forgotten).toEqual([a.id]);
    expect(fake.calls.filter((c) => c.taskId === a.id).map((c) => c.op)).toContain("shutdown");
    expect(w.tasks().map((t) => t.id)).toEqual([b.id]);
    expect(fake.containers.get(b.id)!.state).toBe("running");
  });

  it("removes the containers of tasks left out of a later full set", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    const b = makeTask({ slot: 2 });
    await w.applyComplete([a, b]);
    await expect.poll(() => sink.last(b.id)?.state).toBe(TaskState.RUNNING);
    await w.applyComplete([{ ...b, status: sink.last(b.id) }]);
    await expect.poll(() => fake.containers.has(a.id)).toBe(false);
    expect(fake.containers.get(b.id)!.starts).toBe(1);
  });

  it("removes a task's container when its desired state is REMOVE", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    await w.applyComplete([a]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await w.applyComplete([{ ...a, desiredState: TaskState.REMOVE }]);
    await expect.poll(() => fake.containers.has(a.id)).toBe(false);
    expect(sink.last(a.id)?.state).toBe(TaskState.SHUTDOWN);
  });

  it("reports a failed task with its exit code, and an unhealthy one as FAILED", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const exits = makeTask();
    const sick = makeTask({ slot: 2 });
    fake.script(exits.id, { exitCode: 2 });
    fake.script(sick.id, { healthcheck: true, health: HealthState.HEALTHY });
    await w.applyComplete([exits, sick]);
    await expect.poll(() => sink.last(exits.id)?.state).toBe(TaskState.FAILED);
    expect(sink.last(exits.id)?.containerStatus?.exitCode).toBe(2);
    await expect.poll(() => sink.last(sick.id)?.state).toBe(TaskState.RUNNING);
    expect(sink.last(sick.id)?.health).toBe(HealthState.HEALTHY);
    fake.setHealth(sick.id, HealthState.UNHEALTHY);
    await expect.poll(() => sink.last(sick.id)?.state).toBe(TaskState.FAILED);
    expect(sink.last(sick.id)?.health).toBe(HealthState.UNHEALTHY);
  });

  it("a restarted worker adopts a running container from its saved tasks, without starting another", async () => {
    const fake = new FakeExecutor();
    const store = new MemoryTaskStore();
    const first = worker(fake, store);
    const a = makeTask();
    await first.w.applyComplete([a]);
    await expect.poll(() => first.sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await first.w.stop();
    expect(fake.containers.get(a.id)!.state).toBe("running");

    const second = worker(fake, store);
    await second.w.start();
    // Before any assignment: the saved task has a runner again, attached to its container.
    expect(second.w.tasks().map((t) => t.id)).toEqual([a.id]);
    expect(second.sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    // The manager's copy is behind (its reports were lost): the agent's status wins.
    await second.w.applyComplete([a]);
    await sleep(20);
    expect(second.w.tasks()[0]!.status!.state).toBe(TaskState.RUNNING);
    expect(fake.containers.get(a.id)!.starts).toBe(1);
    expect(fake.calls.filter((c) => c.taskId === a.id && c.op === "start")).toHaveLength(1);
    // It is watched: an exit now is reported.
    fake.exit(a.id, 1);
    await expect.poll(() => second.sink.last(a.id)?.state).toBe(TaskState.FAILED);
  });

  it("reports the exit of a container that ended while the agent was down", async () => {
    const fake = new FakeExecutor();
    const store = new MemoryTaskStore();
    const first = worker(fake, store);
    const a = makeTask();
    await first.w.applyComplete([a]);
    await expect.poll(() => first.sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await first.w.stop();
    fake.exit(a.id, 5);

    const second = worker(fake, store);
    await second.w.start();
    await expect.poll(() => second.sink.last(a.id)?.state).toBe(TaskState.FAILED);
    expect(second.sink.last(a.id)?.containerStatus?.exitCode).toBe(5);
  });

  it("adopts a running container from the full set alone (nothing saved), without starting another", async () => {
    const fake = new FakeExecutor();
    const first = worker(fake);
    const a = makeTask();
    await first.w.applyComplete([a]);
    await expect.poll(() => first.sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await first.w.stop();

    const second = worker(fake); // a fresh store: nothing saved
    await second.w.start();
    expect(second.w.tasks()).toEqual([]);
    await second.w.applyComplete([withState(a, TaskState.ASSIGNED)]);
    await expect.poll(() => second.sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    expect(fake.containers.get(a.id)!.starts).toBe(1);
    expect(fake.containers.size).toBe(1);
  });

  it("removes containers of unassigned tasks only once the first full set arrived, and only its node's", async () => {
    const fake = new FakeExecutor();
    const first = worker(fake);
    const mine = makeTask();
    const other = makeTask({ slot: 2, nodeId: "node-2" });
    await first.w.applyComplete([mine, other]);
    await expect.poll(() => first.sink.last(other.id)?.state).toBe(TaskState.RUNNING);
    await first.w.stop();

    const second = worker(fake); // nothing saved; node-1
    await second.w.start();
    await sleep(30);
    // No manager yet: the containers keep running.
    expect(fake.containers.get(mine.id)!.state).toBe("running");
    expect(fake.containers.get(other.id)!.state).toBe("running");

    await second.w.applyComplete([]);
    await expect.poll(() => fake.containers.has(mine.id)).toBe(false);
    // Another node's container on the same daemon is not this agent's business.
    expect(fake.containers.get(other.id)!.state).toBe("running");
  });

  it("saves the assigned tasks with their latest status", async () => {
    const fake = new FakeExecutor();
    const store = new MemoryTaskStore();
    const { w, sink } = worker(fake, store);
    const a = makeTask();
    await w.applyComplete([a]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await expect.poll(async () => (await store.load())[0]?.status?.state).toBe(TaskState.RUNNING);
    await w.applyIncremental([remove(a)]);
    await expect.poll(async () => (await store.load()).length).toBe(0);
  });

  it("stops idempotently and leaves containers running", async () => {
    const fake = new FakeExecutor();
    const { w, sink } = worker(fake);
    const a = makeTask();
    await w.applyComplete([a]);
    await expect.poll(() => sink.last(a.id)?.state).toBe(TaskState.RUNNING);
    await Promise.all([w.stop(), w.stop()]);
    expect(fake.containers.get(a.id)!.state).toBe("running");
    // Assignments after stop are ignored.
    await w.applyComplete([]);
    expect(fake.containers.has(a.id)).toBe(true);
  });
});
