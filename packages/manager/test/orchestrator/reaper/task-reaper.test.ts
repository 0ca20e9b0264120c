import { TaskState } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { TaskReaper } from "../../../src/orchestrator/reaper/task-reaper.js";
import { ReplicatedOrchestrator } from "../../../src/orchestrator/replicated/orchestrator.js";
import { RestartSupervisor } from "../../../src/orchestrator/restart/supervisor.js";
import { cluster, node, service, task } from "../fixtures.js";
import { place, report, runnable, settle, setup, tasksOf, until } from "../helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("TaskReaper", () => {
  it("keeps 5 ended tasks per slot as a task keeps failing", async () => {
    const { store, clock, logger } = setup();
    const components = [
      new ReplicatedOrchestrator({ store, clock, logger }),
      new RestartSupervisor({ store, clock, logger }),
      new TaskReaper({ store, clock, logger }),
    ];
    for (const c of components) {
      void c.run();
      stops.push(() => c.stop());
    }
    const svc = service("web", { replicas: 1, restart: { delayMs: 100 } });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    for (let i = 0; i < 9; i++) {
      await until(() => runnable(tasksOf(store, svc.id)).length === 1, `task ${i}`);
      const current = runnable(tasksOf(store, svc.id))[0]!;
      await place(store, current.id, "n1");
      clock.advance(10);
      await report(store, current.id, TaskState.FAILED, 1);
      await settle();
      clock.advance(100);
    }
    await until(() => runnable(tasksOf(store, svc.id)).length === 1, "the last successor");
    await settle();
    const tasks = tasksOf(store, svc.id);
    expect(tasks.filter((t) => t.desiredState === TaskState.SHUTDOWN)).toHaveLength(5);
    expect(tasks).toHaveLength(6);
  });

  it("follows the cluster's history limit, and reads the whole store at start", async () => {
    const { store, clock, logger } = setup();
    const svc = service("web", { replicas: 1 });
    await store.update((tx) => {
      tx.clusters.create(cluster(5));
      tx.services.create(svc);
      for (let i = 0; i < 4; i++) {
        tx.tasks.create(task(svc, { id: `old${i}`, slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN }));
      }
      tx.tasks.create(task(svc, { id: "live", slot: 1, nodeId: "n1", state: TaskState.RUNNING }));
    });
    const reaper = new TaskReaper({ store, clock, logger });
    void reaper.run();
    stops.push(() => reaper.stop());
    await settle();
    expect(tasksOf(store, svc.id)).toHaveLength(5);
    await store.update((tx) => {
      const c = tx.clusters.get("cluster")!;
      c.spec!.orchestration!.taskHistoryRetentionLimit = 1;
      tx.clusters.update(c);
    });
    await until(() => tasksOf(store, svc.id).length === 2, "history trimmed to 1");
    expect(runnable(tasksOf(store, svc.id)).map((t) => t.id)).toEqual(["live"]);
  });

  it("deletes removed tasks once they have ended, at once if they never reached a node", async () => {
    const { store, clock, logger } = setup();
    const svc = service("web", { replicas: 1 });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.tasks.create(task(svc, { id: "placed", slot: 1, nodeId: "n1", state: TaskState.RUNNING }));
      tx.tasks.create(task(svc, { id: "pending", slot: 2, state: TaskState.PENDING }));
    });
    const reaper = new TaskReaper({ store, clock, logger });
    void reaper.run();
    stops.push(() => reaper.stop());
    await store.update((tx) => {
      for (const t of tx.tasks.find({ serviceId: svc.id })) {
        t.desiredState = TaskState.REMOVE;
        tx.tasks.update(t);
      }
    });
    await until(() => tasksOf(store, svc.id).length === 1, "the pending task deleted");
    expect(tasksOf(store, svc.id)[0]?.id).toBe("placed");
    await report(store, "placed", TaskState.SHUTDOWN);
    await until(() => tasksOf(store, svc.id).length === 0, "the stopped task deleted");
  });

  it("deletes a removed task whose node is gone", async () => {
    const { store, clock, logger } = setup();
    const svc = service("agent", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.tasks.create(task(svc, { id: "g", nodeId: "n1", state: TaskState.RUNNING, desired: TaskState.REMOVE }));
    });
    const reaper = new TaskReaper({ store, clock, logger });
    void reaper.run();
    stops.push(() => reaper.stop());
    await settle();
    expect(tasksOf(store, svc.id)).toHaveLength(1);
    await store.update((tx) => tx.nodes.delete("n1"));
    await until(() => tasksOf(store, svc.id).length === 0, "deleted");
  });
});
