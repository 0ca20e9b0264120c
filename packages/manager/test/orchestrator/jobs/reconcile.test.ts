import { JobRunOutcome, NodeAvailability, ScheduleOverlap, TaskState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { emptyJobStatus, startJobRun } from "../../../src/orchestrator/jobs/job-runs.js";
import { planJob, type JobInput } from "../../../src/orchestrator/jobs/reconcile.js";
import { idSource, node } from "../fixtures.js";
import { job, jobTask } from "./fixtures.js";

const matchAll = () => true;

function decide(input: Omit<JobInput, "nodeMatches" | "now">) {
  return planJob({ nodeMatches: matchAll, now: 1_000, newId: idSource(), ...input });
}

function created(plan: ReturnType<typeof decide>["plan"]): Task[] {
  return plan.ops.flatMap((op) => (op.kind === "create" ? [op.task] : []));
}

function raised(plan: ReturnType<typeof decide>["plan"]): [string, TaskState][] {
  return plan.ops.flatMap((op) => (op.kind === "raise" ? [[op.id, op.desiredState] as [string, TaskState]] : []));
}

describe("planJob: replicated jobs", () => {
  it("starts at most max_concurrent tasks, in the lowest free slots, for the current run", () => {
    const svc = job("batch", { total: 10, maxConcurrent: 3 });
    const first = decide({ service: svc, tasks: [] });
    expect(created(first.plan).map((t) => [t.slot, t.jobIteration?.index, t.desiredState])).toEqual([
      [1, 1, TaskState.RUNNING],
      [2, 1, TaskState.RUNNING],
      [3, 1, TaskState.RUNNING],
    ]);
    expect(first.results.get(1)?.outcome).toBe(JobRunOutcome.RUNNING);

    // Slot 2 completed: one more may start, in slot 4.
    const tasks = [
      jobTask(svc, 1, { id: "a", slot: 1 }),
      jobTask(svc, 1, { id: "b", slot: 2, state: TaskState.COMPLETE }),
      jobTask(svc, 1, { id: "c", slot: 3, state: TaskState.PENDING }),
    ];
    expect(created(decide({ service: svc, tasks }).plan).map((t) => t.slot)).toEqual([4]);
  });

  it("never starts more than total_completions needs, and succeeds once they completed", () => {
    const svc = job("batch", { total: 4, maxConcurrent: 3 });
    const done = (slot: number) => jobTask(svc, 1, { slot, state: TaskState.COMPLETE });
    const three = [done(1), done(2), jobTask(svc, 1, { slot: 3 })];
    expect(created(decide({ service: svc, tasks: three }).plan).map((t) => t.slot)).toEqual([4]);

    const all = decide({ service: svc, tasks: [done(1), done(2), done(3), done(4)] });
    expect(all.plan.size).toBe(0);
    expect(all.results.get(1)).toEqual({ outcome: JobRunOutcome.SUCCEEDED, succeeded: 4, failed: 0 });
  });

  it("counts a failed slot waiting for its restart as active, and fails the run once the policy gives up", () => {
    const svc = job("flaky", { total: 3, maxConcurrent: 1, restart: { maxAttempts: 1 } });
    // Slot 1 failed once: the restart supervisor restarts it; nothing new starts meanwhile.
    const failedOnce = [jobTask(svc, 1, { id: "f1", slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN })];
    const waiting = decide({ service: svc, tasks: failedOnce });
    expect(waiting.plan.size).toBe(0);
    expect(waiting.results.get(1)?.outcome).toBe(JobRunOutcome.RUNNING);

    // Its restart failed too: max attempts reached, no more tasks, the run failed.
    const gaveUp = [
      ...failedOnce,
      jobTask(svc, 1, { id: "f2", slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 10 }),
    ];
    const failed = decide({ service: svc, tasks: gaveUp });
    expect(failed.plan.size).toBe(0);
    expect(failed.results.get(1)).toEqual({ outcome: JobRunOutcome.FAILED, succeeded: 0, failed: 2 });
  });

  it("shuts down the live tasks of older runs and starts the new run's own slots", () => {
    let svc = job("batch", { total: 2 });
    const old = [
      jobTask(svc, 1, { id: "old-done", slot: 1, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 1, { id: "old-running", slot: 2 }),
    ];
    svc = startJobRun(svc, 500);
    const next = decide({ service: svc, tasks: old });
    expect(raised(next.plan)).toEqual([["old-running", TaskState.SHUTDOWN]]);
    expect(created(next.plan).map((t) => [t.slot, t.jobIteration?.index])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it("leaves older runs to finish under overlap ALLOW, and settles them when they end", () => {
    let svc = job("allow", { total: 2, overlap: ScheduleOverlap.ALLOW });
    svc = startJobRun(svc, 500);
    const old = [
      jobTask(svc, 1, { id: "o1", slot: 1, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 1, { id: "o2", slot: 2 }),
    ];
    const running = decide({ service: svc, tasks: old });
    expect(raised(running.plan)).toEqual([]);
    expect(created(running.plan).map((t) => [t.slot, t.jobIteration?.index])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(running.results.has(1)).toBe(false);

    const ended = [old[0]!, { ...old[1]!, status: { ...old[1]!.status!, state: TaskState.COMPLETE } }];
    ended[1]!.desiredState = TaskState.SHUTDOWN;
    expect(decide({ service: svc, tasks: ended }).results.get(1)).toEqual({
      outcome: JobRunOutcome.SUCCEEDED,
      succeeded: 2,
      failed: 0,
    });
  });

  it("does nothing for a job waiting for its first tick", () => {
    const svc = job("cron", { total: 2 });
    svc.jobStatus = { ...emptyJobStatus(), jobIteration: { index: 0 } };
    expect(decide({ service: svc, tasks: [] }).plan.size).toBe(0);
  });
});

describe("planJob: global jobs", () => {
  it("runs once on every node that accepts a task, and on nodes that join later", () => {
    const svc = job("setup", { global: true });
    const nodes = new Map([
      ["a", node("a")],
      ["b", node("b")],
      ["p", node("p", { availability: NodeAvailability.PAUSE })],
    ]);
    const first = decide({ service: svc, tasks: [], nodes });
    expect(created(first.plan).map((t) => [t.nodeId, t.slot, t.jobIteration?.index])).toEqual([
      ["a", 0, 1],
      ["b", 0, 1],
    ]);

    const done = [
      jobTask(svc, 1, { nodeId: "a", state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 1, { nodeId: "b", state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
    ];
    const finished = decide({ service: svc, tasks: done, nodes });
    expect(finished.plan.size).toBe(0);
    expect(finished.results.get(1)).toEqual({ outcome: JobRunOutcome.SUCCEEDED, succeeded: 2, failed: 0 });

    nodes.set("c", node("c"));
    expect(created(decide({ service: svc, tasks: done, nodes }).plan).map((t) => t.nodeId)).toEqual(["c"]);
  });

  it("shuts down its task on a node drained mid-run and does not wait for it", () => {
    const svc = job("setup", { global: true });
    const nodes = new Map([
      ["a", node("a")],
      ["d", node("d", { availability: NodeAvailability.DRAIN })],
    ]);
    const tasks = [
      jobTask(svc, 1, { nodeId: "a", state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 1, { id: "on-d", nodeId: "d" }),
    ];
    const decision = decide({ service: svc, tasks, nodes });
    expect(raised(decision.plan)).toEqual([["on-d", TaskState.SHUTDOWN]]);
    expect(decision.results.get(1)?.outcome).toBe(JobRunOutcome.SUCCEEDED);
  });
});
