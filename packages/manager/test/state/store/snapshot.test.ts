import { ErrorCode, ManualClock, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/state/store/index.js";
import { makeCluster, makeNode, makeService, makeTask } from "./fixtures.js";

async function bigStore(tasks: number): Promise<MemoryStore> {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryStore({ clock });
  const services = Array.from({ length: 20 }, (_, i) => makeService(`svc-${i}`, `s${String(i).padStart(3, "0")}`));
  const nodes = Array.from({ length: 50 }, (_, i) => makeNode(`host-${i}`, `n${String(i).padStart(3, "0")}`));
  await store.update((tx) => {
    tx.clusters.create(makeCluster("default", "c1"));
    services.forEach((s) => tx.services.create(s));
    nodes.forEach((n) => tx.nodes.create(n));
  });
  for (let start = 0; start < tasks; start += 1000) {
    clock.advance(1);
    await store.update((tx) => {
      for (let i = start; i < Math.min(tasks, start + 1000); i++) {
        const svc = services[i % services.length]!;
        tx.tasks.create(
          makeTask(
            svc,
            Math.floor(i / services.length) + 1,
            nodes[i % nodes.length]!.id,
            `t${String(i).padStart(6, "0")}`,
          ),
        );
      }
    });
  }
  await store.update((tx) => {
    const t = tx.tasks.get("t000007")!;
    t.desiredState = TaskState.SHUTDOWN;
    tx.tasks.update(t);
  });
  return store;
}

describe("MemoryStore: snapshots", () => {
  it("round-trips 10,000 tasks exactly", async () => {
    const store = await bigStore(10_000);
    const bytes = store.save();
    const copy = new MemoryStore();
    copy.restore(bytes);
    expect(copy.appliedIndex).toBe(store.appliedIndex);
    expect(Buffer.from(copy.save()).equals(Buffer.from(bytes))).toBe(true);
    const all = (s: MemoryStore) =>
      s.view((tx) => ({
        clusters: tx.clusters.find(),
        nodes: tx.nodes.find(),
        services: tx.services.find(),
        tasks: tx.tasks.find().sort((a, b) => (a.id < b.id ? -1 : 1)),
      }));
    const a = all(store);
    const b = all(copy);
    expect(b.tasks).toHaveLength(10_000);
    expect(b).toEqual(a);
    // Indexes are rebuilt too.
    copy.view((tx) => {
      expect(tx.tasks.find({ serviceId: "s003" })).toHaveLength(500);
      expect(tx.tasks.find({ nodeId: "n007", serviceId: "s007" })).toHaveLength(100); // i = 7 mod 100
      expect(tx.tasks.find({ slot: { serviceId: "s000", slot: 1 } }).map((t) => t.id)).toEqual(["t000000"]);
      expect(tx.tasks.find({ desiredState: TaskState.SHUTDOWN }).map((t) => t.id)).toEqual(["t000007"]);
      expect(tx.services.find({ name: "svc-4" }).map((s) => s.id)).toEqual(["s004"]);
    });
    // The restored store carries on: versions keep counting from the restored index.
    await copy.update((tx) => tx.nodes.create(makeNode("late", "n999")));
  });

  it("saveAsync gives the bytes of save() at the time of the call, while the store moves on", async () => {
    const store = await bigStore(3_000);
    const expected = store.save();
    const pending = store.saveAsync({ sliceSize: 100 });
    await store.update((tx) => tx.nodes.create(makeNode("later", "n-later")));
    const bytes = await pending;
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
  });

  it("gives equal bytes for equal states whatever the order of their history", async () => {
    const a = new MemoryStore({ clock: new ManualClock(5) });
    const b = new MemoryStore({ clock: new ManualClock(5) });
    await a.update((tx) => {
      tx.nodes.create(makeNode("h1", "n1"));
      tx.nodes.create(makeNode("h2", "n2"));
    });
    await b.update((tx) => {
      tx.nodes.create(makeNode("h2", "n2"));
      tx.nodes.create(makeNode("h1", "n1"));
    });
    expect(Buffer.from(a.save()).equals(Buffer.from(b.save()))).toBe(true);
  });

  it("refuses bytes that are not a whole snapshot, and keeps its state", async () => {
    const store = await bigStore(10);
    const bytes = store.save();
    const target = new MemoryStore();
    await target.update((tx) => tx.nodes.create(makeNode("keep", "k1")));
    for (const bad of [bytes.subarray(0, bytes.length - 3), new Uint8Array([1, 2, 3]), new Uint8Array([...bytes, 0])]) {
      expect(() => target.restore(bad)).toThrow(expect.objectContaining({ code: ErrorCode.DataLoss }));
    }
    expect(target.view((tx) => tx.nodes.find().map((n) => n.id))).toEqual(["k1"]);
  });

  it("restores an empty store", () => {
    const bytes = new MemoryStore().save();
    const s = new MemoryStore();
    s.restore(bytes);
    expect(s.view((tx) => tx.tasks.find())).toEqual([]);
    expect(Buffer.from(s.save()).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe("snapshot format", () => {
  it("restores task frames in the generated encoder's own field order too", async () => {
    const { StoreAction, StoreActionKind } = await import("@shoal/shared");
    const svc = makeService("web", "s1");
    const task = makeTask(svc, 1, "n1", "t1");
    task.meta = { version: { index: 3 }, createdAt: new Date(1000), updatedAt: new Date(2000) };
    const frame = StoreAction.encode({ kind: StoreActionKind.CREATE, target: { $case: "task", value: task } }).finish();
    // Header: magic, index 3, one object; then the frame with its length (< 16384: two bytes).
    const bytes = new Uint8Array([
      0x53,
      0x48,
      0x4c,
      0x53,
      0x01,
      3,
      1,
      (frame.length & 0x7f) | 0x80,
      frame.length >> 7,
      ...frame,
    ]);
    const store = new MemoryStore();
    store.restore(bytes);
    expect(store.view((tx) => tx.tasks.get("t1"))).toEqual(task);
    const again = new MemoryStore();
    again.restore(store.save()); // written in the store's own layout, read back the same
    expect(again.view((tx) => tx.tasks.get("t1"))).toEqual(task);
  });

  it("restores the tasks of a service sharing one spec object", async () => {
    const store = await bigStore(200);
    const copy = new MemoryStore();
    copy.restore(store.save());
    const internal = (copy as unknown as { tables: { tasks: { get(id: string): { spec: unknown } } } }).tables.tasks;
    expect(internal.get("t000000").spec).toBe(internal.get("t000020").spec); // same service s000
    // (Equal specs of other services may be the same object too: sharing is invisible to readers.)
  });
});
