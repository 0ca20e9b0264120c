import { TaskState } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import {
  ReplicatedOrchestrator,
  type ReplicatedOrchestratorOptions,
} from "../../../src/orchestrator/replicated/orchestrator.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { service, task } from "../fixtures.js";
import { runnable, settle, setup, tasksOf, until } from "../helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

type Options = Omit<ReplicatedOrchestratorOptions, "store">;

function start(store: MemoryStore, options: Options): ReplicatedOrchestrator {
  const orchestrator = new ReplicatedOrchestrator({ store, ...options });
  void orchestrator.run();
  stops.push(() => orchestrator.stop());
  return orchestrator;
}

async function scale(store: MemoryStore, id: string, replicas: number): Promise<void> {
  await store.update((tx) => {
    const s = tx.services.get(id)!;
    s.spec!.mode = { $case: "replicated", value: { replicas } };
    tx.services.update(s);
  });
}

describe("ReplicatedOrchestrator", () => {
  it("gives a service created with 3 replicas 3 tasks in slots 1..3", async () => {
    const { store, clock, logger } = setup();
    start(store, { logger, clock });
    const svc = service("web", { replicas: 3 });
    await store.update((tx) => tx.services.create(svc));
    await until(() => tasksOf(store, svc.id).length === 3, "3 tasks");
    await settle();
    const tasks = tasksOf(store, svc.id);
    expect(tasks.map((t) => t.slot)).toEqual([1, 2, 3]);
    expect(tasks.map((t) => t.annotations?.name)).toEqual(["web.1", "web.2", "web.3"]);
    for (const t of tasks) {
      expect(t).toMatchObject({ nodeId: "", desiredState: TaskState.RUNNING, status: { state: TaskState.NEW } });
    }
  });

  it("starts from what the store holds, and scales up and down", async () => {
    const { store, clock, logger } = setup();
    const svc = service("web", { replicas: 2 });
    await store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(task(svc, { id: "keep", slot: 1, nodeId: "n1", state: TaskState.RUNNING }));
    });
    start(store, { logger, clock });
    await until(() => tasksOf(store, svc.id).length === 2, "slot 2 filled");
    expect(tasksOf(store, svc.id).map((t) => t.slot)).toEqual([1, 2]);

    await scale(store, svc.id, 5);
    await until(() => runnable(tasksOf(store, svc.id)).length === 5, "5 runnable tasks");
    await scale(store, svc.id, 1);
    await until(() => runnable(tasksOf(store, svc.id)).length === 1, "1 runnable task");
    await settle();
    const tasks = tasksOf(store, svc.id);
    expect(runnable(tasks).map((t) => t.id)).toEqual(["keep"]); // the running one stays
    expect(tasks.filter((t) => t.id !== "keep").every((t) => t.desiredState === TaskState.REMOVE)).toBe(true);

    await scale(store, svc.id, 0);
    await until(() => runnable(tasksOf(store, svc.id)).length === 0, "no runnable task");
    await scale(store, svc.id, 2);
    await until(() => runnable(tasksOf(store, svc.id)).length === 2, "2 runnable tasks");
    expect(runnable(tasksOf(store, svc.id)).map((t) => t.slot)).toEqual([1, 2]);
  });

  it("gives every task of a removed service the desired state REMOVE", async () => {
    const { store, clock, logger } = setup();
    start(store, { logger, clock });
    const svc = service("web", { replicas: 3 });
    await store.update((tx) => tx.services.create(svc));
    await until(() => tasksOf(store, svc.id).length === 3, "3 tasks");
    await store.update((tx) => tx.services.delete(svc.id));
    await until(
      () => tasksOf(store, svc.id).every((t) => t.desiredState === TaskState.REMOVE),
      "every task desired REMOVE",
    );
    expect(tasksOf(store, svc.id)).toHaveLength(3); // the reaper deletes them, not the orchestrator
  });

  it("removes at start the tasks of a service deleted while no orchestrator ran", async () => {
    const { store, clock, logger } = setup();
    const svc = service("web");
    await store.update((tx) => tx.tasks.create(task(svc, { id: "orphan", slot: 1 })));
    start(store, { logger, clock });
    await until(() => tasksOf(store, svc.id)[0]?.desiredState === TaskState.REMOVE, "orphan removed");
  });

  it("reads the state again after the store is replaced by a snapshot", async () => {
    const { store, clock, logger } = setup();
    start(store, { logger, clock });
    const other = setup();
    const svc = service("web", { replicas: 2 });
    await other.store.update((tx) => tx.services.create(svc));
    store.restore(other.store.save(), 100);
    await until(() => tasksOf(store, svc.id).length === 2, "2 tasks after restore");
  });

  it("writes a large plan in several transactions, each within the limit", async () => {
    const { store, clock, logger } = setup();
    const sizes: number[] = [];
    const sub = store.watch({ tables: ["tasks"], kinds: ["create"], commits: "never" });
    start(store, { logger, clock, maxWritesPerTx: 40 });
    const svc = service("web", { replicas: 100 });
    await store.update((tx) => tx.services.create(svc));
    await until(() => tasksOf(store, svc.id).length === 100, "100 tasks");
    const byIndex = new Map<number, number>();
    for (const e of sub.drain()) if (e.kind === "create") byIndex.set(e.index, (byIndex.get(e.index) ?? 0) + 1);
    sizes.push(...byIndex.values());
    expect(sizes).toEqual([40, 40, 20]);
    expect(new Set(tasksOf(store, svc.id).map((t) => t.slot)).size).toBe(100);
  });

  it("repairs a slot that someone else emptied or doubled", async () => {
    const { store, clock, logger } = setup();
    start(store, { logger, clock });
    const svc = service("web", { replicas: 2 });
    await store.update((tx) => tx.services.create(svc));
    await until(() => tasksOf(store, svc.id).length === 2, "2 tasks");
    const [first] = tasksOf(store, svc.id);
    await store.update((tx) => tx.tasks.delete(first!.id));
    await until(() => runnable(tasksOf(store, svc.id)).length === 2, "slot 1 filled again");
    expect(runnable(tasksOf(store, svc.id)).map((t) => t.slot)).toEqual([1, 2]);
    await store.update((tx) => tx.tasks.create(task(svc, { id: "intruder", slot: 2, nodeId: "n1" })));
    await until(() => runnable(tasksOf(store, svc.id)).length === 2, "one runnable task per slot");
    expect(runnable(tasksOf(store, svc.id)).some((t) => t.id === "intruder")).toBe(true); // the most advanced stays
  });

  it("stops when asked, idempotently, and when its signal aborts", async () => {
    const { store, clock, logger } = setup();
    const a = new ReplicatedOrchestrator({ store, logger, clock });
    const done = a.run();
    await settle();
    await a.stop();
    await a.stop();
    await expect(done).resolves.toBeUndefined();
    await expect(a.run()).rejects.toThrow(/run already/);

    const b = new ReplicatedOrchestrator({ store, logger, clock });
    const controller = new AbortController();
    const running = b.run(controller.signal);
    controller.abort();
    await expect(running).resolves.toBeUndefined();
    // Stopped: a new service gets no tasks.
    const svc = service("late", { replicas: 1 });
    await store.update((tx) => tx.services.create(svc));
    await settle();
    expect(tasksOf(store, svc.id)).toEqual([]);
  });
});
