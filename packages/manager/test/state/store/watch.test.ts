import { ManualClock, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  MemoryStore,
  WatchOverflowError,
  type ObjectEvent,
  type StoreEvent,
  type Subscription,
} from "../../../src/state/store/index.js";
import { makeNode, makeService, makeTask } from "./fixtures.js";

function summary(events: readonly StoreEvent[]): string[] {
  return events.map((e) =>
    e.kind === "commit" || e.kind === "resync"
      ? `${e.kind} ${e.index}`
      : `${e.kind} ${e.table} ${e.object.id}@${e.index}`,
  );
}

describe("MemoryStore: watch", () => {
  it("delivers each entry's events in commit order, each entry closed by a commit event", async () => {
    const store = new MemoryStore({ clock: new ManualClock(0) });
    const sub = store.watch();
    const svc = makeService("web", "s1");
    await store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(makeTask(svc, 1, "", "t1"));
    });
    await store.update((tx) => {
      const t = tx.tasks.get("t1")!;
      t.nodeId = "n1";
      tx.tasks.update(t);
    });
    await store.update((tx) => tx.tasks.delete("t1"));
    const events = sub.drain();
    expect(summary(events)).toEqual([
      "create services s1@1",
      "create tasks t1@1",
      "commit 1",
      "update tasks t1@2",
      "commit 2",
      "delete tasks t1@3",
      "commit 3",
    ]);
    const upd = events[3] as Extract<ObjectEvent, { kind: "update" }>;
    expect(upd.table === "tasks" && upd.object.nodeId).toBe("n1");
    expect(upd.table === "tasks" && upd.oldObject.nodeId).toBe("");
    expect(upd.object.meta?.version?.index).toBe(2);
    expect(upd.oldObject.meta?.version?.index).toBe(1);
    const del = events[5] as ObjectEvent;
    expect(del.object.meta?.version?.index).toBe(2); // the object as it was when deleted
  });

  it("gives each subscriber its own copies", async () => {
    const store = new MemoryStore();
    const a = store.watch();
    const b = store.watch();
    await store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    const ea = a.drain()[0] as ObjectEvent;
    const eb = b.drain()[0] as ObjectEvent;
    expect(ea.object).toEqual(eb.object);
    expect(ea.object).not.toBe(eb.object);
    (ea.object as { id: string }).id = "changed";
    expect(store.view((tx) => tx.nodes.get("n1"))).toBeDefined();
  });

  it("hands an uncopied subscriber the store's own objects, and a copied one copies beside it", async () => {
    const store = new MemoryStore();
    const raw = store.watch({ uncopied: true, tables: ["nodes"] });
    const copied = store.watch({ tables: ["nodes"] });
    await store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    await store.update((tx) => {
      const n = tx.nodes.get("n1")!;
      n.spec!.annotations!.name = "renamed";
      tx.nodes.update(n);
    });
    const [created, , updated] = raw.drain() as ObjectEvent[];
    const stored = store.view((tx) => tx.nodes.scan()[0]);
    expect(updated!.object).toBe(stored);
    // The object the update replaced is the one the create event carried: kept, it did not change.
    expect(updated!.kind === "update" && updated!.oldObject).toBe(created!.object);
    expect((created!.object as { spec?: { annotations?: { name?: string } } }).spec?.annotations?.name).not.toBe(
      "renamed",
    );
    const mine = copied.drain().filter((e) => e.kind === "update")[0] as ObjectEvent;
    expect(mine.object).toEqual(stored);
    expect(mine.object).not.toBe(stored);
  });

  it("filters by table, kind and predicate; commit events always, only when matched, or never", async () => {
    const store = new MemoryStore();
    const svc = makeService("web", "s1");
    const tasksOnly = store.watch({ tables: ["tasks"], commits: "matched" });
    const deletes = store.watch({ kinds: ["delete"], commits: "never" });
    const onNode = store.watch({
      match: (e) =>
        e.table === "tasks" && (e.object.nodeId === "n1" || (e.kind === "update" && e.oldObject.nodeId === "n1")),
    });
    await store.update((tx) => tx.services.create(svc));
    await store.update((tx) => {
      tx.tasks.create(makeTask(svc, 1, "n1", "t1"));
      tx.tasks.create(makeTask(svc, 2, "n2", "t2"));
    });
    await store.update((tx) => tx.tasks.delete("t2"));
    expect(summary(tasksOnly.drain())).toEqual([
      "create tasks t1@2",
      "create tasks t2@2",
      "commit 2",
      "delete tasks t2@3",
      "commit 3",
    ]);
    expect(summary(deletes.drain())).toEqual(["delete tasks t2@3"]);
    expect(summary(onNode.drain())).toEqual(["commit 1", "create tasks t1@2", "commit 2", "commit 3"]);
  });

  it("peeks at the store's objects before copying, and queues only what the peek wants", async () => {
    const store = new MemoryStore();
    const svc = makeService("web", "s1");
    const peeked: string[] = [];
    const onNode = store.watch({
      tables: ["tasks"],
      commits: "matched",
      peek: (_table, object, oldObject) => {
        peeked.push((object as { id: string }).id);
        const node = (t: unknown): string | undefined => (t as { nodeId?: string } | undefined)?.nodeId;
        return node(object) === "n1" || node(oldObject) === "n1";
      },
    });
    await store.update((tx) => tx.services.create(svc));
    await store.update((tx) => {
      tx.tasks.create(makeTask(svc, 1, "n1", "t1"));
      tx.tasks.create(makeTask(svc, 2, "n2", "t2"));
    });
    await store.update((tx) => {
      const t1 = tx.tasks.get("t1")!;
      tx.tasks.update({ ...t1, nodeId: "n3" }); // moved away from n1: still wanted (the old one was)
    });
    expect(peeked).toEqual(["t1", "t2", "t1"]);
    expect(summary(onNode.drain())).toEqual(["create tasks t1@2", "commit 2", "update tasks t1@3", "commit 3"]);
  });

  it("drops a subscriber that falls behind, with a reason it can see, and never blocks the store", async () => {
    const store = new MemoryStore();
    const slow = store.watch({ capacity: 5 });
    const fast = store.watch({ capacity: 5 });
    for (let i = 1; i <= 4; i++) {
      await store.update((tx) => tx.nodes.create(makeNode("h", `n${i}`)));
      expect(fast.drain()).toHaveLength(2);
    }
    // slow holds 2 events per entry: the third entry would make 6 > 5.
    expect(slow.closed).toBe(true);
    expect(slow.closeReason).toBe("overflow");
    expect(slow.size).toBe(0); // what it held is released
    await expect(slow.next()).rejects.toBeInstanceOf(WatchOverflowError);
    expect(() => slow.drain()).toThrow(WatchOverflowError);
    expect(fast.closed).toBe(false);
    expect(store.view((tx) => tx.nodes.find()).length).toBe(4);
  });

  it("always fits one entry into an empty queue, however large", async () => {
    const store = new MemoryStore();
    const sub = store.watch({ capacity: 3 });
    const svc = makeService("web", "s1");
    await store.update((tx) => {
      for (let i = 1; i <= 10; i++) tx.tasks.create(makeTask(svc, i, "", `t${i}`));
    });
    expect(sub.closed).toBe(false);
    expect(sub.drain()).toHaveLength(11);
  });

  it("wakes a waiting reader and ends iteration on close() or abort", async () => {
    const store = new MemoryStore();
    const ac = new AbortController();
    const sub = store.watch({ signal: ac.signal, tables: ["nodes"] });
    const seen: string[] = [];
    const reader = (async () => {
      for await (const e of sub) {
        seen.push(summary([e])[0]!);
        if (seen.length === 4) ac.abort();
      }
    })();
    await store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    await store.update((tx) => tx.nodes.create(makeNode("h", "n2")));
    await reader;
    expect(seen).toEqual(["create nodes n1@1", "commit 1", "create nodes n2@2", "commit 2"]);
    expect(sub.closeReason).toBe("aborted");
    await store.update((tx) => tx.nodes.create(makeNode("h", "n3"))); // no longer delivered, no error

    const other = store.watch();
    const next = other.next();
    other.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    expect(other.closeReason).toBe("closed");
    const aborted = store.watch({ signal: AbortSignal.abort() });
    expect(aborted.closeReason).toBe("aborted");
  });

  it("store.close() ends every subscription", async () => {
    const store = new MemoryStore();
    const sub = store.watch();
    const next = sub.next();
    store.close();
    await expect(next).resolves.toMatchObject({ done: true });
    expect(sub.closeReason).toBe("store-closed");
    expect(store.watch().closeReason).toBe("store-closed");
  });

  it("viewAndWatch is atomic: the snapshot plus the events that follow give the state, nothing lost or repeated", async () => {
    const store = new MemoryStore();
    const svc = makeService("web", "s1");
    await store.update((tx) => tx.services.create(svc));
    const watchers: Array<{ ids: Map<string, number>; sub: Subscription }> = [];
    const writer = (async () => {
      for (let i = 1; i <= 300; i++) {
        await store.update((tx) => {
          tx.tasks.create(makeTask(svc, i, "", `t${i}`));
          if (i % 3 === 0) {
            const t = tx.tasks.get(`t${i - 1}`)!;
            t.desiredState = TaskState.SHUTDOWN;
            tx.tasks.update(t);
          }
          if (i % 5 === 0) tx.tasks.delete(`t${i - 4}`);
        });
        if (i % 4 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const reader = (async () => {
      for (let k = 0; k < 40; k++) {
        for (let j = 0; j < k % 7; j++) await Promise.resolve(); // subscribe at varied points
        const { result, subscription } = store.viewAndWatch(
          (tx) => new Map(tx.tasks.find().map((t) => [t.id, t.meta!.version!.index])),
          { tables: ["tasks"] },
        );
        watchers.push({ ids: result, sub: subscription });
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([writer, reader]);
    const final = store.view((tx) => new Map(tx.tasks.find().map((t) => [t.id, t.meta!.version!.index])));
    expect(final.size).toBeGreaterThan(200);
    expect(new Set(watchers.map((w) => w.ids.size)).size).toBeGreaterThan(10); // subscribed at many points
    for (const { ids, sub } of watchers) {
      for (const e of sub.drain()) {
        if (e.kind === "commit" || e.kind === "resync") continue;
        if (e.kind === "create") expect(ids.has(e.object.id)).toBe(false);
        else
          expect(ids.get(e.object.id)).toBe(
            e.kind === "update" ? e.oldObject.meta?.version?.index : e.object.meta?.version?.index,
          );
        if (e.kind === "delete") ids.delete(e.object.id);
        else ids.set(e.object.id, e.object.meta!.version!.index);
      }
      expect(ids).toEqual(final);
    }
    expect(watchers.length).toBe(40);
  });

  it("replaces what is queued by a resync event when the state is restored", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    const snap = store.save();
    const sub = store.watch();
    await store.update((tx) => tx.nodes.create(makeNode("h", "n2")));
    expect(sub.size).toBe(2);
    store.restore(snap, 7);
    expect(summary(sub.drain())).toEqual(["resync 7"]);
    expect(store.appliedIndex).toBe(7);
    expect(store.view((tx) => tx.nodes.find().map((n) => n.id))).toEqual(["n1"]);
  });
});
