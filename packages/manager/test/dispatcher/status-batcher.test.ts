// Status reports batched into store writes on the injected clock: one transaction per interval
// (several for a batch past MAX_STATUS_WRITES),
// forward moves only, from the task's own node.
import { ManualClock, Task, TaskState, TaskStatus, silentLogger } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { MAX_STATUS_WRITES, StatusBatcher } from "../../src/dispatcher/status-batcher.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { settle } from "../orchestrator/helpers.js";

async function setup() {
  const clock = new ManualClock(1_000_000);
  const store = new MemoryStore({ clock });
  await store.update((tx) => {
    for (const id of ["t1", "t2"])
      tx.tasks.create(Task.fromPartial({ id, nodeId: "n1", status: { state: TaskState.ASSIGNED } }));
  });
  const batcher = new StatusBatcher({ store, clock, logger: silentLogger(), intervalMs: 20 });
  const state = (id: string): TaskState | undefined => store.view((tx) => tx.tasks.get(id))?.status?.state;
  return { clock, store, batcher, state };
}

const status = (state: TaskState): TaskStatus => TaskStatus.fromPartial({ state });

describe("StatusBatcher", () => {
  it("writes what comes within one interval in one transaction, stamped with the clock", async () => {
    const { clock, store, batcher, state } = await setup();
    const before = store.appliedIndex;
    const first = batcher.add("n1", "t1", status(TaskState.RUNNING));
    clock.advance(10);
    const second = batcher.add("n1", "t2", status(TaskState.STARTING));
    await settle();
    expect(state("t1")).toBe(TaskState.ASSIGNED);
    clock.advance(10);
    await Promise.all([first, second]);
    expect(store.appliedIndex - before).toBe(1);
    expect(state("t1")).toBe(TaskState.RUNNING);
    expect(state("t2")).toBe(TaskState.STARTING);
    expect(store.view((tx) => tx.tasks.get("t1"))?.status?.timestamp).toEqual(new Date(1_000_020));
  });

  it("writes a large batch in transactions of at most MAX_STATUS_WRITES tasks", async () => {
    const { clock, store, batcher } = await setup();
    const count = 2 * MAX_STATUS_WRITES + 1;
    await store.update((tx) => {
      for (let i = 0; i < count; i++)
        tx.tasks.create(Task.fromPartial({ id: `big${i}`, nodeId: "n1", status: { state: TaskState.ASSIGNED } }));
    });
    const sizes: number[] = [];
    const sub = store.watch({ tables: ["tasks"], commits: "always" });
    let inEntry = 0;
    void (async () => {
      for await (const e of sub) {
        if (e.kind === "commit") {
          sizes.push(inEntry);
          inEntry = 0;
        } else inEntry++;
      }
    })();
    const all = Array.from({ length: count }, (_, i) => batcher.add("n1", `big${i}`, status(TaskState.RUNNING)));
    clock.advance(20);
    await Promise.all(all);
    await settle();
    sub.close();
    expect(sizes).toEqual([MAX_STATUS_WRITES, MAX_STATUS_WRITES, 1]);
    const running = store.view((tx) => tx.tasks.scan().filter((t) => t.status?.state === TaskState.RUNNING).length);
    expect(running).toBe(count);
  });

  it("keeps the latest forward report, drops backward moves and other nodes' tasks", async () => {
    const { clock, batcher, state } = await setup();
    const queued = [
      batcher.add("n1", "t1", status(TaskState.RUNNING)),
      batcher.add("n1", "t1", status(TaskState.STARTING)), // older than the queued one: ignored
      batcher.add("n2", "t2", status(TaskState.FAILED)), // not its node
    ];
    clock.advance(20);
    await Promise.all(queued);
    expect(state("t1")).toBe(TaskState.RUNNING);
    expect(state("t2")).toBe(TaskState.ASSIGNED);
    const backwards = batcher.add("n1", "t1", status(TaskState.STARTING));
    clock.advance(20);
    await backwards;
    expect(state("t1")).toBe(TaskState.RUNNING);
  });

  it("drains without waiting for the clock, and stop() fails what is queued", async () => {
    const { clock, batcher, state } = await setup();
    const drained = batcher.add("n1", "t1", status(TaskState.RUNNING));
    await batcher.drain();
    await drained;
    expect(state("t1")).toBe(TaskState.RUNNING);
    expect(clock.pendingTimers).toBe(0);

    const dropped = batcher.add("n1", "t2", status(TaskState.RUNNING));
    batcher.stop();
    await expect(dropped).rejects.toThrow(/stopped/);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(100);
    await settle();
    expect(state("t2")).toBe(TaskState.ASSIGNED);
  });
});
