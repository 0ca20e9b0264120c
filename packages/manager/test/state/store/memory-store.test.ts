import {
  ErrorCode,
  ManualClock,
  NotFoundError,
  SequenceConflictError,
  ShoalError,
  StoreActionKind,
  TaskState,
  UnavailableError,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { LocalProposer, MemoryStore, type Proposer } from "../../../src/state/store/index.js";
import { makeCluster, makeNode, makeService, makeTask } from "./fixtures.js";
import { ManualProposer, settle } from "./helpers.js";

function newStore(clock = new ManualClock(1_700_000_000_000)): MemoryStore {
  return new MemoryStore({ clock });
}

describe("MemoryStore: reads and writes", () => {
  it("creates objects with a meta set by the store, and finds them by id, prefix and name", async () => {
    const clock = new ManualClock(1_700_000_000_123);
    const store = newStore(clock);
    const web = makeService("web", "aaaa1111");
    const api = makeService("api", "aaab2222");
    await store.update((tx) => {
      tx.services.create(web);
      tx.services.create(api);
    });
    expect(store.appliedIndex).toBe(1);
    const got = store.view((tx) => tx.services.get("aaaa1111"));
    expect(got?.spec).toEqual(web.spec);
    expect(got?.meta).toEqual({
      version: { index: 1 },
      createdAt: new Date(1_700_000_000_123),
      updatedAt: new Date(1_700_000_000_123),
    });
    store.view((tx) => {
      expect(tx.services.find().map((s) => s.id)).toEqual(["aaaa1111", "aaab2222"]);
      expect(tx.services.find({ idPrefix: "aaa" })).toHaveLength(2);
      expect(tx.services.find({ idPrefix: "aaab" }).map((s) => s.id)).toEqual(["aaab2222"]);
      expect(tx.services.find({ name: "api" }).map((s) => s.id)).toEqual(["aaab2222"]);
      expect(tx.services.find({ namePrefix: "we" }).map((s) => s.id)).toEqual(["aaaa1111"]);
      expect(tx.services.find({ name: "nope" })).toEqual([]);
      expect(tx.services.get("zzz")).toBeUndefined();
    });
  });

  it("finds nodes by hostname, or by the operator's name when set, and by role", async () => {
    const store = newStore();
    const a = makeNode("host-a", "n1");
    const b = makeNode("host-b", "n2");
    b.spec!.annotations!.name = "edge";
    const c = makeNode("host-a", "n3"); // hostnames need not be unique
    await store.update((tx) => [a, b, c].forEach((n) => tx.nodes.create(n)));
    store.view((tx) => {
      expect(tx.nodes.find({ name: "host-a" }).map((n) => n.id)).toEqual(["n1", "n3"]);
      expect(tx.nodes.find({ name: "edge" }).map((n) => n.id)).toEqual(["n2"]);
      expect(tx.nodes.find({ namePrefix: "host" }).map((n) => n.id)).toEqual(["n1", "n3"]);
      expect(tx.nodes.find({ role: a.role })).toHaveLength(3);
    });
  });

  it("hands out copies: changing what was read or written changes nothing stored", async () => {
    const store = newStore();
    const svc = makeService("web", "s1");
    const task = makeTask(svc, 1, "n1", "t1");
    await store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(task);
    });
    task.spec!.container!.image = "mutated-after-create";
    const read = store.view((tx) => tx.tasks.get("t1"))!;
    expect(read.spec?.container?.image).not.toBe("mutated-after-create");
    read.spec!.container!.env.push("X=1");
    read.status!.timestamp!.setTime(0);
    read.meta!.createdAt!.setTime(0);
    read.serviceAnnotations!.labels["x"] = "y";
    const again = store.view((tx) => tx.tasks.get("t1"))!;
    expect(again.spec?.container?.env).not.toContain("X=1");
    expect(again.status?.timestamp?.getTime()).not.toBe(0);
    expect(again.meta?.createdAt?.getTime()).not.toBe(0);
    expect(again.serviceAnnotations?.labels).not.toHaveProperty("x");
    expectNoSharedObjects(read, again);
    const [a, b] = store.view((tx) => [tx.tasks.find({ serviceId: "s1" })[0]!, tx.tasks.find({ serviceId: "s1" })[0]!]);
    expectNoSharedObjects(a, b);
  });

  it("scans what find finds, uncopied, and with the transaction's own writes", async () => {
    const store = newStore();
    const svc = makeService("web", "s1");
    await store.update((tx) => {
      tx.services.create(svc);
      for (let slot = 1; slot <= 3; slot++) tx.tasks.create(makeTask(svc, slot, `n${slot}`, `t${slot}`));
    });
    const ids = (tasks: readonly { id: string }[]): string[] => tasks.map((t) => t.id).sort();
    store.view((tx) => {
      expect(ids(tx.tasks.scan())).toEqual(ids(tx.tasks.find()));
      expect(ids(tx.tasks.scan({ nodeId: "n2" }))).toEqual(["t2"]);
      // The same objects each time: nothing copied.
      expect(tx.tasks.scan({ nodeId: "n2" })[0]).toBe(tx.tasks.scan({ serviceId: "s1" }).find((t) => t.id === "t2"));
    });
    await store.update((tx) => {
      const t1 = tx.tasks.get("t1")!;
      t1.nodeId = "n9";
      tx.tasks.update(t1);
      tx.tasks.delete("t3");
      tx.tasks.create(makeTask(svc, 4, "n9", "t4"));
      expect(ids(tx.tasks.scan())).toEqual(["t1", "t2", "t4"]);
      expect(ids(tx.tasks.scan({ nodeId: "n9" }))).toEqual(["t1", "t4"]);
      expect(ids(tx.tasks.scan({ nodeId: "n1" }))).toEqual([]);
    });
    expect(store.view((tx) => ids(tx.tasks.scan({ nodeId: "n9" })))).toEqual(["t1", "t4"]);
  });

  it("updates with the stored version and rejects a stale one with SequenceConflictError", async () => {
    const clock = new ManualClock(1_000);
    const store = newStore(clock);
    await store.update((tx) => tx.services.create(makeService("web", "s1")));
    const v1 = store.view((tx) => tx.services.get("s1"))!;
    clock.advance(5_000);
    await store.update((tx) => {
      const s = tx.services.get("s1")!;
      s.spec!.mode = { $case: "replicated", value: { replicas: 7 } };
      tx.services.update(s);
    });
    const v2 = store.view((tx) => tx.services.get("s1"))!;
    expect(v2.meta?.version?.index).toBe(2);
    expect(v2.meta?.createdAt).toEqual(new Date(1_000));
    expect(v2.meta?.updatedAt).toEqual(new Date(6_000));
    expect(v2.spec?.mode).toEqual({ $case: "replicated", value: { replicas: 7 } });

    v1.spec!.mode = { $case: "replicated", value: { replicas: 1 } };
    await expect(store.update((tx) => tx.services.update(v1))).rejects.toBeInstanceOf(SequenceConflictError);
    expect(store.view((tx) => tx.services.get("s1"))).toEqual(v2);
    expect(store.appliedIndex).toBe(2);
    await expect(store.update((tx) => tx.services.update(makeService("x", "nope")))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("refuses a second object with the same id, and a service or cluster name that is taken", async () => {
    const store = newStore();
    await store.update((tx) => {
      tx.services.create(makeService("web", "s1"));
      tx.clusters.create(makeCluster("default", "c1"));
    });
    const code = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => "resolved",
        (e: unknown) => (e instanceof ShoalError ? e.code : e),
      );
    expect(await code(store.update((tx) => tx.services.create(makeService("other", "s1"))))).toBe(
      ErrorCode.AlreadyExists,
    );
    expect(await code(store.update((tx) => tx.services.create(makeService("web", "s2"))))).toBe(
      ErrorCode.AlreadyExists,
    );
    expect(await code(store.update((tx) => tx.clusters.create(makeCluster("default", "c2"))))).toBe(
      ErrorCode.AlreadyExists,
    );
    // Renaming onto a taken name fails too; a name freed earlier in the same transaction is free.
    await store.update((tx) => tx.services.create(makeService("api", "s2")));
    const rename = (id: string, name: string) => (tx: Parameters<Parameters<MemoryStore["update"]>[0]>[0]) => {
      const s = tx.services.get(id)!;
      s.spec!.annotations!.name = name;
      tx.services.update(s);
    };
    expect(await code(store.update(rename("s2", "web")))).toBe(ErrorCode.AlreadyExists);
    await store.update((tx) => {
      rename("s1", "tmp")(tx);
      rename("s2", "web")(tx);
      rename("s1", "api")(tx);
    });
    store.view((tx) => {
      expect(tx.services.find({ name: "web" }).map((s) => s.id)).toEqual(["s2"]);
      expect(tx.services.find({ name: "api" }).map((s) => s.id)).toEqual(["s1"]);
    });
    // Nodes may share a name.
    await store.update((tx) => {
      tx.nodes.create(makeNode("h", "n1"));
      tx.nodes.create(makeNode("h", "n2"));
    });
  });

  it("deletes, and a deleted object is gone from every index", async () => {
    const store = newStore();
    const svc = makeService("web", "s1");
    await store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(makeTask(svc, 1, "n1", "t1"));
      tx.tasks.create(makeTask(svc, 2, "n1", "t2"));
    });
    await store.update((tx) => tx.tasks.delete("t1"));
    store.view((tx) => {
      expect(tx.tasks.get("t1")).toBeUndefined();
      expect(tx.tasks.find({ serviceId: "s1" }).map((t) => t.id)).toEqual(["t2"]);
      expect(tx.tasks.find({ nodeId: "n1" }).map((t) => t.id)).toEqual(["t2"]);
      expect(tx.tasks.find({ slot: { serviceId: "s1", slot: 1 } })).toEqual([]);
    });
    await expect(store.update((tx) => tx.tasks.delete("t1"))).rejects.toBeInstanceOf(NotFoundError);
    await store.update((tx) => tx.services.delete("s1"));
    await store.update((tx) => tx.services.create(makeService("web", "s9"))); // the name is free again
  });

  it("a transaction whose callback throws changes nothing and proposes nothing", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    const boom = new Error("boom");
    await expect(
      store.update((tx) => {
        tx.services.create(makeService("web", "s1"));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(proposer.proposals).toHaveLength(0);
    expect(store.view((tx) => tx.services.find())).toEqual([]);
    // An async callback is refused: its writes after the first await could not be part of the entry.
    await expect(store.update(async (tx) => tx.services.create(makeService("web", "s1")))).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(proposer.proposals).toHaveLength(0);
    // A transaction that writes nothing resolves at once without proposing.
    await expect(store.update((tx) => tx.services.find().length)).resolves.toBe(0);
    expect(proposer.proposals).toHaveLength(0);
  });

  it("a proposer failure rejects update() and changes nothing; the next update proceeds", async () => {
    const failing: Proposer = { propose: () => Promise.reject(new UnavailableError("no quorum")) };
    const store = new MemoryStore({ proposer: failing });
    await expect(store.update((tx) => tx.services.create(makeService("web", "s1")))).rejects.toThrow("no quorum");
    expect(store.view((tx) => tx.services.find())).toEqual([]);
    expect(store.appliedIndex).toBe(0);

    const manual = new ManualProposer();
    const store2 = new MemoryStore({ proposer: manual });
    const first = store2.update((tx) => tx.services.create(makeService("web", "s1")));
    const second = store2.update((tx) => tx.services.create(makeService("web", "s2")));
    await settle();
    manual.fail(new UnavailableError("leader lost"));
    await expect(first).rejects.toThrow("leader lost");
    await settle();
    manual.commit([store2]); // the second ran after the first failed: the name was free
    await expect(second).resolves.toBeUndefined();
    expect(store2.view((tx) => tx.services.find().map((s) => s.id))).toEqual(["s2"]);
  });

  it("resolves update() only once the entry is committed and applied, in either order", async () => {
    for (const order of ["apply-first", "resolve-first"] as const) {
      const proposer = new ManualProposer();
      const store = new MemoryStore({ proposer });
      let done = false;
      const p = store.update((tx) => tx.nodes.create(makeNode("h", "n1"))).then(() => (done = true));
      await settle();
      expect(proposer.proposals).toHaveLength(1);
      expect(store.view((tx) => tx.nodes.get("n1"))).toBeUndefined(); // not applied before the commit
      expect(done).toBe(false);
      if (order === "resolve-first") {
        const pr = proposer.proposals.shift()!;
        pr.resolve({ index: 1 });
        await settle();
        expect(done).toBe(false); // committed but not applied yet
        store.applyEntry(1, structuredClone(pr.actions));
      } else {
        proposer.commit([store]);
      }
      await p;
      expect(store.view((tx) => tx.nodes.get("n1"))?.meta?.version?.index).toBe(1);
    }
  });

  it("serializes updates: each transaction sees the result of the one before", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    await Promise.all([
      store.update((tx) => tx.services.create(makeService("web", "s1"))),
      (async () => {
        await settle();
        proposer.commit([store]);
      })(),
    ]);
    const bump = (): Promise<number> =>
      store.update((tx) => {
        const s = tx.services.get("s1")!;
        const mode = s.spec!.mode!;
        const replicas = mode.$case === "replicated" ? mode.value.replicas + 1 : 0;
        s.spec!.mode = { $case: "replicated", value: { replicas } };
        tx.services.update(s);
        return replicas;
      });
    const results = [bump(), bump(), bump()];
    for (let i = 0; i < 3; i++) {
      await settle();
      expect(proposer.proposals).toHaveLength(1); // the next one waits for this one
      proposer.commit([store]);
    }
    expect(await Promise.all(results)).toEqual([4, 5, 6]);
  });

  it("rejects update() when its entry fails the checks at apply (a stale write let through by a leader change)", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    const created = store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    await settle();
    proposer.commit([store]);
    await created;
    const p = store.update((tx) => {
      const n = tx.nodes.get("n1")!;
      n.status!.message = "mine";
      tx.nodes.update(n);
    });
    await settle();
    // Before our entry commits, an entry from elsewhere (an earlier leader's) changes the node.
    const theirs = store.view((tx) => tx.nodes.get("n1"))!;
    theirs.status!.message = "theirs";
    expect(store.applyEntry(2, [{ kind: StoreActionKind.UPDATE, target: { $case: "node", value: theirs } }])).toBe(
      true,
    );
    const mine = proposer.proposals.shift()!;
    store.applyEntry(3, mine.actions); // written at version 1; the node is at 2 now
    mine.resolve({ index: 3 });
    await expect(p).rejects.toBeInstanceOf(SequenceConflictError);
    expect(store.view((tx) => tx.nodes.get("n1"))?.status?.message).toBe("theirs");
    expect(store.appliedIndex).toBe(3);
  });

  it("ignores an entry applied a second time (the leader never applies twice)", async () => {
    const store = newStore();
    await store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    const before = store.save();
    const action = { kind: StoreActionKind.CREATE, target: { $case: "node" as const, value: makeNode("x", "n2") } };
    expect(store.applyEntry(1, [action])).toBe(false);
    expect(store.save()).toEqual(before);
  });

  it("writes within a transaction are visible to it, and net to one action per object", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer, clock: new ManualClock(0) });
    const svc = makeService("web", "s1");
    const p = store.update((tx) => {
      tx.services.create(svc);
      tx.tasks.create(makeTask(svc, 1, "", "t1"));
      tx.tasks.create(makeTask(svc, 2, "", "t2"));
      const t1 = tx.tasks.get("t1")!;
      t1.nodeId = "n1";
      tx.tasks.update(t1);
      tx.tasks.delete("t2");
      expect(tx.tasks.find({ serviceId: "s1" }).map((t) => t.id)).toEqual(["t1"]);
      expect(tx.tasks.find({ nodeId: "n1" }).map((t) => t.id)).toEqual(["t1"]);
      expect(tx.tasks.find({ nodeId: "" })).toEqual([]);
    });
    await settle();
    const actions = proposer.proposals[0]!.actions;
    expect(actions.map((a) => [a.kind, a.target?.value.id])).toEqual([
      [StoreActionKind.CREATE, "s1"],
      [StoreActionKind.CREATE, "t1"],
    ]);
    expect(actions[1]?.target?.$case === "task" && actions[1].target.value.nodeId).toBe("n1");
    proposer.commit([store]);
    await p;

    // Deleting and creating the same id in one transaction is a remove and then a create.
    const q = store.update((tx) => {
      tx.tasks.delete("t1");
      tx.tasks.create(makeTask(svc, 1, "n2", "t1"));
    });
    await settle();
    expect(proposer.proposals[0]!.actions.map((a) => a.kind)).toEqual([StoreActionKind.REMOVE, StoreActionKind.CREATE]);
    proposer.commit([store]);
    await q;
    expect(store.view((tx) => tx.tasks.get("t1"))?.nodeId).toBe("n2");
  });

  it("a transaction cannot be used after its callback, and a view cannot write", async () => {
    const store = newStore();
    let leaked: Parameters<Parameters<MemoryStore["view"]>[0]>[0] | undefined;
    store.view((tx) => (leaked = tx));
    expect(() => leaked!.nodes.find()).toThrow(/after its callback/);
    expect(() =>
      store.view((tx) => (tx as unknown as { nodes: { create(n: unknown): void } }).nodes.create(makeNode("h", "n1"))),
    ).toThrow(/read-only/);
  });

  it("close() fails waiting and later updates", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    const p = store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    await settle();
    proposer.proposals[0]!.resolve({ index: 1 }); // committed, never applied here
    await settle();
    store.close();
    await expect(p).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    await expect(store.update((tx) => tx.nodes.create(makeNode("h", "n2")))).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
    });
    store.close(); // idempotent
  });

  it("aborting an update that waits its turn abandons it without running it", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    const first = store.update((tx) => tx.nodes.create(makeNode("h", "n1")));
    const ac = new AbortController();
    let ran = false;
    const second = store.update(
      (tx) => {
        ran = true;
        tx.nodes.create(makeNode("h", "n2"));
      },
      { signal: ac.signal },
    );
    const third = store.update((tx) => tx.nodes.create(makeNode("h", "n3")));
    ac.abort(new ShoalError(ErrorCode.Cancelled, "client went away"));
    await expect(second).rejects.toMatchObject({ code: ErrorCode.Cancelled }); // before the first is done
    expect(proposer.proposals).toHaveLength(1); // the third still waits for the first
    proposer.commit([store]);
    await first;
    await settle();
    expect(proposer.proposals).toHaveLength(1);
    proposer.commit([store]);
    await third;
    expect(ran).toBe(false);
    expect(store.view((tx) => tx.nodes.find().map((n) => n.id))).toEqual(["n1", "n3"]);
  });

  it("two stores applying the same entries end identical (same snapshot bytes)", async () => {
    const proposer = new LocalProposer();
    const clock = new ManualClock(1_700_000_000_000);
    const leader = new MemoryStore({ proposer, clock });
    const follower = new MemoryStore({ proposer, clock: new ManualClock(42) }); // its clock is never read
    proposer.attach(leader);
    proposer.attach(follower);
    const svc = makeService("web", "s1");
    await leader.update((tx) => {
      tx.services.create(svc);
      tx.nodes.create(makeNode("h1", "n1"));
      tx.clusters.create(makeCluster("default", "c1"));
    });
    for (let i = 1; i <= 50; i++) {
      clock.advance(7);
      await leader.update((tx) => tx.tasks.create(makeTask(svc, i, i % 2 ? "n1" : "", `t${i}`)));
    }
    for (let i = 1; i <= 50; i += 3) {
      await leader.update((tx) => {
        const t = tx.tasks.get(`t${i}`)!;
        t.desiredState = TaskState.SHUTDOWN;
        tx.tasks.update(t);
        if (i % 2 === 0) tx.tasks.delete(`t${i + 1}`);
      });
    }
    // An entry with a stale write (as a deposed leader might have left) is rejected everywhere alike.
    const stale = makeTask(svc, 1, "n9", "t1");
    stale.meta = { version: { index: 2 }, createdAt: undefined, updatedAt: undefined };
    const entry = [
      { kind: StoreActionKind.CREATE, target: { $case: "node" as const, value: makeNode("h2", "n2") } },
      { kind: StoreActionKind.UPDATE, target: { $case: "task" as const, value: stale } },
    ];
    expect(leader.applyEntry(999, structuredClone(entry))).toBe(false);
    expect(follower.applyEntry(999, structuredClone(entry))).toBe(false);
    expect(leader.view((tx) => tx.nodes.get("n2"))).toBeUndefined();
    expect(follower.appliedIndex).toBe(leader.appliedIndex);
    expect(Buffer.from(follower.save()).equals(Buffer.from(leader.save()))).toBe(true);
    expect(follower.view((tx) => tx.tasks.get("t1"))).toEqual(leader.view((tx) => tx.tasks.get("t1")));
  });
});

/** Walks both graphs: no object (or array, or Date) may be reachable from both. */
function expectNoSharedObjects(a: unknown, b: unknown): void {
  const seen = new Set<object>();
  const collect = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    for (const child of Object.values(v)) collect(child);
  };
  collect(a);
  const check = (v: unknown, path: string): void => {
    if (typeof v !== "object" || v === null) return;
    if (seen.has(v)) throw new Error(`shared object at ${path}`);
    for (const [k, child] of Object.entries(v)) check(child, `${path}.${k}`);
  };
  check(b, "$");
}

describe("MemoryStore: pipelined updates", () => {
  it("runs the next transaction once the previous one is proposed, and apply turns a stale write into a conflict", async () => {
    const proposer = new ManualProposer();
    const store = new MemoryStore({ proposer });
    await Promise.all([
      store.update((tx) => tx.services.create(makeService("web", "s1"))),
      (async () => {
        await settle();
        proposer.commit([store]);
      })(),
    ]);
    const rename = (name: string): Promise<void> =>
      store.update(
        (tx) => {
          const s = tx.services.get("s1")!;
          s.spec!.annotations!.name = name;
          tx.services.update(s);
        },
        { pipelined: true },
      );
    const first = rename("api");
    const second = rename("db");
    await settle();
    expect(proposer.proposals).toHaveLength(2); // both in flight at once
    proposer.commit([store]);
    proposer.commit([store]);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toMatchObject({ code: "SEQUENCE_CONFLICT" });
    expect(store.view((tx) => tx.services.get("s1")!.spec!.annotations!.name)).toBe("api");
  });
});
