// The Scheduler component with generic resources: units given in the store, counted as tasks come
// and go, and counted again from the store by a new leader's scheduler.
import { ManualClock, Task, TaskState, silentLogger } from "@shoal/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PENDING_MESSAGE, Scheduler } from "../../src/scheduler/scheduler.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { genericNode, genericTask, gpuUnits } from "./generic-fixtures.js";

const running: Scheduler[] = [];
let clock: ManualClock;

beforeEach(() => {
  clock = new ManualClock(1_000_000);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function start(store: MemoryStore): Scheduler {
  const scheduler = new Scheduler({ store, logger: silentLogger(), clock });
  running.push(scheduler);
  void scheduler.run();
  return scheduler;
}

async function waitFor<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 2_000; i++) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advance(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const fresh = (t: Task): Task => Task.fromPartial({ ...t, meta: undefined });
const tasks = (store: MemoryStore): Task[] => store.view((tx) => tx.tasks.find({ serviceId: "ml" }));
const byState = (store: MemoryStore, state: TaskState): Task[] => tasks(store).filter((t) => t.status?.state === state);
const units = (ts: readonly Task[]): string[] =>
  ts.flatMap((t) => t.assignedGenericResources.map((r) => `${t.nodeId}:${String(r.resource?.value.value)}`)).sort();

async function setState(store: MemoryStore, id: string, state: TaskState): Promise<void> {
  await store.update((tx) => {
    const t = tx.tasks.get(id)!;
    tx.tasks.update({ ...t, status: { ...t.status!, state } });
  });
}

describe("Scheduler with generic resources", () => {
  it("gives distinct units, keeps the third task pending, and gives it the unit a task frees", async () => {
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.nodes.create(genericNode("a", gpuUnits("GPU-a")));
      tx.nodes.create(genericNode("b", gpuUnits("GPU-b")));
    });
    start(store);
    await store.update((tx) => [1, 2, 3].forEach((s) => tx.tasks.create(fresh(genericTask("ml", s, { gpu: 1 })))));
    const pending = await waitFor("two assigned, one pending", () => {
      const p = byState(store, TaskState.PENDING);
      return byState(store, TaskState.ASSIGNED).length === 2 && p.length === 1 ? p[0] : undefined;
    });
    expect(units(byState(store, TaskState.ASSIGNED))).toEqual(["a:GPU-a", "b:GPU-b"]);
    expect(pending.status).toMatchObject({
      message: PENDING_MESSAGE,
      err: "no suitable node (insufficient generic resource gpu on 2 nodes)",
    });
    expect(pending.assignedGenericResources).toEqual([]);

    // A task that ends gives its unit back: the pending one gets it.
    const done = byState(store, TaskState.ASSIGNED).find((t) => t.nodeId === "b")!;
    await setState(store, done.id, TaskState.RUNNING);
    await setState(store, done.id, TaskState.FAILED);
    const placed = await waitFor("the third placed", () => {
      const t = store.view((tx) => tx.tasks.get(pending.id));
      return t?.status?.state === TaskState.ASSIGNED ? t : undefined;
    });
    expect(units([placed])).toEqual(["b:GPU-b"]);
  });

  it("counts units from the store after a leader change, and gives none twice", async () => {
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.nodes.create(genericNode("a", gpuUnits("GPU-a", "GPU-b")));
    });
    const first = start(store);
    await store.update((tx) => tx.tasks.create(fresh(genericTask("ml", 1, { gpu: 1 }))));
    await waitFor("one assigned", () => byState(store, TaskState.ASSIGNED).length === 1);
    await first.stop();

    // The next leader's scheduler reads the state afresh.
    start(store);
    await store.update((tx) => [2, 3].forEach((s) => tx.tasks.create(fresh(genericTask("ml", s, { gpu: 1 })))));
    await waitFor("two assigned, one pending", () => byState(store, TaskState.PENDING).length === 1);
    expect(units(byState(store, TaskState.ASSIGNED))).toEqual(["a:GPU-a", "a:GPU-b"]);
  });

  it("takes units the node stops advertising out, and new ones in", async () => {
    const store = new MemoryStore({ clock });
    await store.update((tx) => tx.nodes.create(genericNode("a", [])));
    start(store);
    await store.update((tx) => tx.tasks.create(fresh(genericTask("ml", 1, { gpu: 1 }))));
    await waitFor("pending", () => byState(store, TaskState.PENDING).length === 1);
    await store.update((tx) => tx.nodes.update(genericNode("a", gpuUnits("GPU-new"), {})));
    await waitFor("assigned", () => byState(store, TaskState.ASSIGNED).length === 1);
    expect(units(tasks(store))).toEqual(["a:GPU-new"]);
  });
});
