import { TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { Plan, applyOps } from "../../src/orchestrator/plan.js";
import { newTask } from "../../src/orchestrator/task-factory.js";
import { service, task } from "./fixtures.js";
import { setup, tasksOf } from "./helpers.js";

describe("the replacement guard", () => {
  it("makes a task next to the one it replaces, or in its place, but not next to another live task", async () => {
    const { store } = setup();
    const svc = service("web", { replicas: 2 });
    await store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(task(svc, { id: "old-1", slot: 1, nodeId: "n1" }));
      tx.tasks.create(task(svc, { id: "old-2", slot: 2, nodeId: "n1", desired: TaskState.SHUTDOWN }));
    });
    const plan = new Plan();
    plan.replace(newTask(svc, { slot: 1 }, 0, "start-first"), "old-1"); // old-1 still live: allowed
    plan.replace(newTask(svc, { slot: 1 }, 0, "twice"), "old-1"); // now start-first is live too: refused
    plan.replace(newTask(svc, { slot: 2 }, 0, "stop-first"), "old-2"); // no live task: allowed
    plan.replace(newTask(svc, { slot: 2 }, 0, "late"), "other"); // stop-first is live: refused
    await store.update((tx) => {
      let next = 0;
      while (next < plan.ops.length) next = applyOps(tx, plan.ops, next, 1);
    });
    expect(tasksOf(store, svc.id).map((t) => t.id)).toEqual(["old-1", "start-first", "old-2", "stop-first"]);
  });
});
