import { TaskState, type Service, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import type { Plan } from "../../../src/orchestrator/plan.js";
import { planRemovedTasks, planReplicated } from "../../../src/orchestrator/replicated/reconcile.js";
import { idSource, service, task } from "../fixtures.js";

function plan(svc: Service, tasks: Task[], now = 0): Plan {
  return planReplicated({ service: svc, tasks, now, newId: idSource() });
}

function created(p: Plan): Task[] {
  return p.ops.flatMap((op) => (op.kind === "create" ? [op.task] : []));
}

function raised(p: Plan, state: TaskState): string[] {
  return p.ops.flatMap((op) => (op.kind === "raise" && op.desiredState === state ? [op.id] : [])).sort();
}

describe("planReplicated", () => {
  it("fills slots 1..N with new tasks waiting for the scheduler", () => {
    const p = plan(service("web", { replicas: 3 }), [], 7_000);
    const tasks = created(p);
    expect(tasks.map((t) => t.slot)).toEqual([1, 2, 3]);
    for (const t of tasks) {
      expect(t).toMatchObject({ nodeId: "", desiredState: TaskState.RUNNING, status: { state: TaskState.NEW } });
    }
    expect(p.ops.every((op) => op.kind === "create" && op.guard === "empty-slot")).toBe(true);
  });

  it("scales up while tasks are still starting: only the missing slots get tasks", () => {
    const svc = service("web", { replicas: 5 });
    const tasks = [
      task(svc, { slot: 1, state: TaskState.NEW }),
      task(svc, { slot: 2, nodeId: "n1", state: TaskState.PREPARING }),
      task(svc, { slot: 3, nodeId: "n2", state: TaskState.RUNNING }),
    ];
    expect(created(plan(svc, tasks)).map((t) => t.slot)).toEqual([4, 5]);
  });

  it("fills the lowest free slot numbers", () => {
    const svc = service("web", { replicas: 4 });
    const tasks = [task(svc, { slot: 2 }), task(svc, { slot: 5 })];
    expect(created(plan(svc, tasks)).map((t) => t.slot)).toEqual([1, 3]);
  });

  it("counts a slot with history as filled: its successor is the restart supervisor's business", () => {
    const svc = service("web", { replicas: 2 });
    const tasks = [
      task(svc, { slot: 1, state: TaskState.FAILED }), // ended, waiting for a decision
      task(svc, { slot: 2, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }), // waiting, or done
    ];
    expect(plan(svc, tasks).size).toBe(0);
  });

  it("does not count removed tasks: their slot numbers are free again", () => {
    const svc = service("web", { replicas: 2 });
    const tasks = [task(svc, { slot: 1 }), task(svc, { slot: 2, state: TaskState.RUNNING, desired: TaskState.REMOVE })];
    expect(created(plan(svc, tasks)).map((t) => t.slot)).toEqual([2]);
  });

  it("scales down by removing whole slots, the highest numbers first when all else is equal", () => {
    const svc = service("web", { replicas: 2 });
    const tasks = [1, 2, 3, 4].map((slot) =>
      task(svc, { id: `s${slot}`, slot, nodeId: `n${slot}`, state: TaskState.RUNNING }),
    );
    const history = task(svc, {
      id: "s4-old",
      slot: 4,
      nodeId: "n4",
      state: TaskState.FAILED,
      desired: TaskState.SHUTDOWN,
    });
    const p = plan(svc, [...tasks, history]);
    expect(raised(p, TaskState.REMOVE)).toEqual(["s3", "s4", "s4-old"]);
    expect(created(p)).toEqual([]);
  });

  it("scales down what is not running first: slots without a runnable task, then unassigned, then starting", () => {
    const svc = service("web", { replicas: 2 });
    const tasks = [
      task(svc, { id: "running", slot: 1, nodeId: "n1", state: TaskState.RUNNING }),
      task(svc, { id: "starting", slot: 2, nodeId: "n2", state: TaskState.STARTING }),
      task(svc, { id: "pending", slot: 3, state: TaskState.PENDING }),
      task(svc, { id: "failed", slot: 4, nodeId: "n3", state: TaskState.FAILED }),
      task(svc, { id: "running2", slot: 5, nodeId: "n3", state: TaskState.RUNNING }),
    ];
    expect(raised(plan(svc, tasks), TaskState.REMOVE)).toEqual(["failed", "pending", "starting"]);
  });

  it("scales down the extra copies on crowded nodes first", () => {
    const svc = service("web", { replicas: 3 });
    const tasks = [
      task(svc, { id: "a1", slot: 1, nodeId: "a", state: TaskState.RUNNING }),
      task(svc, { id: "a2", slot: 2, nodeId: "a", state: TaskState.RUNNING }),
      task(svc, { id: "a3", slot: 3, nodeId: "a", state: TaskState.RUNNING }),
      task(svc, { id: "b1", slot: 4, nodeId: "b", state: TaskState.RUNNING }),
      task(svc, { id: "c1", slot: 5, nodeId: "c", state: TaskState.RUNNING }),
    ];
    expect(raised(plan(svc, tasks), TaskState.REMOVE)).toEqual(["a2", "a3"]);
  });

  it("scales to zero", () => {
    const svc = service("web", { replicas: 0 });
    const tasks = [task(svc, { id: "x", slot: 1 }), task(svc, { id: "y", slot: 2, state: TaskState.STARTING })];
    expect(raised(plan(svc, tasks), TaskState.REMOVE)).toEqual(["x", "y"]);
  });

  it("keeps one runnable task per slot: the most advanced", () => {
    const svc = service("web", { replicas: 1 });
    const tasks = [
      task(svc, { id: "old", slot: 1, nodeId: "n1", state: TaskState.RUNNING, created: 0 }),
      task(svc, { id: "new", slot: 1, state: TaskState.PENDING, created: 10 }),
    ];
    const p = plan(svc, tasks);
    expect(raised(p, TaskState.SHUTDOWN)).toEqual(["new"]);
    expect(created(p)).toEqual([]);
  });

  it("removes the replicated tasks of a service that became global, and only those", () => {
    const svc = service("web", { global: true });
    const tasks = [task(svc, { id: "r", slot: 1 }), task(svc, { id: "g", nodeId: "n1" })];
    expect(raised(plan(svc, tasks), TaskState.REMOVE)).toEqual(["r"]);
  });

  it("planRemovedTasks raises every task not removed yet to REMOVE", () => {
    const svc = service("web");
    const tasks = [
      task(svc, { id: "a", slot: 1 }),
      task(svc, { id: "b", slot: 2, state: TaskState.FAILED, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "c", slot: 3, desired: TaskState.REMOVE }),
    ];
    expect(raised(planRemovedTasks(tasks), TaskState.REMOVE)).toEqual(["a", "b"]);
  });
});
