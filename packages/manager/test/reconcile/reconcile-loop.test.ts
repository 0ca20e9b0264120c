import { Backoff, ManualClock, silentLogger, type Node } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { ReconcileLoop, type Reconciler } from "../../src/reconcile/reconcile-loop.js";
import { MemoryStore, type ObjectEvent, type ReadTx, type TableName } from "../../src/state/store/index.js";
import { node } from "../orchestrator/fixtures.js";
import { settle, until } from "../orchestrator/helpers.js";

/** A reconciler that records what it is told and counts its passes. */
class Recorder implements Reconciler {
  readonly tables = ["nodes"] as const;
  resets = 0;
  seen: string[] = [];
  passes: string[][] = [];
  dirty: string[] = [];
  failNext = 0;
  gate: Promise<void> | undefined;

  reset(_tx?: ReadTx): void | Iterator<unknown> {
    this.resets++;
    this.dirty = ["*"];
  }
  observe(e: ObjectEvent): void {
    this.seen.push(`${e.kind} ${e.object.id}`);
    this.dirty.push(e.object.id);
  }
  hasWork(): boolean {
    return this.dirty.length > 0;
  }
  async pass(): Promise<void> {
    const taken = this.dirty;
    this.dirty = [];
    await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      this.dirty = taken;
      throw new Error("not the leader");
    }
    this.passes.push(taken);
  }
}

/** A recorder that only wants nodes whose id starts with "keep". */
class Peeking extends Recorder {
  readonly peek = (_table: TableName, object: unknown): boolean => (object as Node).id.startsWith("keep");
}

const loops: ReconcileLoop[] = [];
afterEach(async () => {
  for (const l of loops.splice(0)) await l.stop();
});

function start(
  store: MemoryStore,
  clock: ManualClock,
  options: { debounceMs?: number; maxDelayMs?: number; retry?: Backoff } = {},
): { loop: ReconcileLoop; rec: Recorder; done: Promise<void> } {
  const rec = new Recorder();
  const loop = new ReconcileLoop(rec, { store, clock, logger: silentLogger(), ...options });
  loops.push(loop);
  return { loop, rec, done: loop.run() };
}

async function addNode(store: MemoryStore, id: string): Promise<void> {
  await store.update((tx) => tx.nodes.create(node(id)));
}

describe("ReconcileLoop", () => {
  it("starts with a pass over everything, then one pass per burst of commits", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    await addNode(store, "before");
    const { rec } = start(store, clock);
    await until(() => rec.passes.length === 1, "the first pass");
    expect(rec.passes[0]).toEqual(["*"]);
    expect(rec.seen).toEqual([]); // what the snapshot held comes through reset, not as events

    await Promise.all([addNode(store, "a"), addNode(store, "b"), addNode(store, "c")]);
    await until(() => rec.seen.length === 3, "3 events");
    await settle();
    expect(rec.passes.flat().filter((x) => x !== "*")).toEqual(["a", "b", "c"]);
    expect(rec.passes.length).toBeLessThanOrEqual(4);
  });

  it("debounces: waits for quiet, but no longer than the latency cap", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const { rec } = start(store, clock, { debounceMs: 100, maxDelayMs: 250 });
    await settle();
    clock.advance(100);
    await until(() => rec.passes.length === 1, "the first pass");

    await addNode(store, "a");
    await settle();
    clock.advance(60);
    await addNode(store, "b");
    await settle();
    clock.advance(60);
    await settle();
    expect(rec.passes).toHaveLength(1); // "b" came 60 ms ago: not quiet yet
    clock.advance(40);
    await until(() => rec.passes.length === 2, "a pass after 100 ms of quiet");
    expect(rec.passes[1]).toEqual(["a", "b"]);

    // A steady trickle of events: the cap forces a pass 250 ms after the first one.
    for (let i = 0; i < 5; i++) {
      await addNode(store, `t${i}`);
      await settle();
      clock.advance(60);
      await settle();
    }
    expect(rec.passes.slice(2)).toEqual([["t0", "t1", "t2", "t3", "t4"]]);
  });

  it("retries a failed pass after a backoff, keeping its work", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const retry = new Backoff({ initialMs: 100, maxMs: 1_000, jitter: 0 });
    const rec = new Recorder();
    rec.failNext = 2;
    const loop = new ReconcileLoop(rec, { store, clock, logger: silentLogger(), retry });
    loops.push(loop);
    void loop.run();
    await settle();
    expect(rec.passes).toEqual([]);
    clock.advance(100);
    await settle();
    expect(rec.passes).toEqual([]);
    clock.advance(199);
    await settle();
    expect(rec.passes).toEqual([]);
    clock.advance(1);
    await until(() => rec.passes.length === 1, "the retried pass");
    expect(rec.passes[0]).toEqual(["*"]);
  });

  it("reads everything again when it falls behind and its watch is dropped", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock, watchCapacity: 3 });
    const { rec } = start(store, clock);
    await until(() => rec.passes.length === 1, "the first pass");
    let open!: () => void;
    rec.gate = new Promise<void>((resolve) => (open = resolve));
    await addNode(store, "a");
    await until(() => rec.dirty.length === 0 && rec.seen.length === 1, "a pass under way");
    for (let i = 0; i < 10; i++) await addNode(store, `n${i}`);
    rec.gate = undefined;
    open();
    await until(() => rec.resets === 2, "a second reset");
    await until(() => rec.passes.at(-1)?.[0] === "*", "a pass over everything");
  });

  it("watches through the reconciler's peek, and with the queue bound it is given", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const rec = new Peeking();
    const loop = new ReconcileLoop(rec, { store, clock, logger: silentLogger(), capacity: 2 });
    loops.push(loop);
    void loop.run();
    await until(() => rec.passes.length === 1, "the first pass");
    await addNode(store, "skip-1");
    await addNode(store, "keep-1");
    await until(() => rec.passes.length === 2, "a pass for keep-1");
    expect(rec.seen).toEqual(["create keep-1"]);

    let open!: () => void;
    rec.gate = new Promise<void>((resolve) => (open = resolve));
    await addNode(store, "keep-2");
    await until(() => rec.dirty.length === 0 && rec.seen.length === 2, "a pass under way");
    for (let i = 0; i < 3; i++) await addNode(store, `keep-x${i}`); // over the bound of 2
    rec.gate = undefined;
    open();
    await until(() => rec.resets === 2, "a second reset after the overflow");
  });

  it("runs a reset's work in slices, before any event or pass", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    await addNode(store, "before");
    const log: string[] = [];
    class Loading extends Recorder {
      override reset(tx: ReadTx): Iterator<unknown> {
        super.reset();
        const ids = tx.nodes.scan().map((n) => n.id); // read now: the transaction ends on return
        return (function* () {
          for (let i = 0; i < 3; i++) {
            const now = store.view((t) => t.nodes.scan().length);
            log.push(`load ${i} of ${ids.join(",")}, ${now} in the store`);
            clock.advance(25); // each step outlasts a slice: the loop yields a turn after it
            yield;
          }
          log.push("loaded");
        })();
      }
      override observe(e: ObjectEvent): void {
        log.push(`event ${e.object.id}`);
        super.observe(e);
      }
      override async pass(): Promise<void> {
        log.push("pass");
        await super.pass();
      }
    }
    const rec = new Loading();
    const loop = new ReconcileLoop(rec, { store, clock, logger: silentLogger() });
    loops.push(loop);
    void loop.run();
    await until(() => log.length > 0, "the reset's first slice");
    await addNode(store, "during"); // committed while the reset's work goes on
    await until(() => log.includes("event during") && rec.passes.length > 0, "the event and a pass");
    // The commit came between two slices: the last one saw it in the store, not in its snapshot.
    expect(log[0]).toBe("load 0 of before, 1 in the store");
    expect(log[2]).toBe("load 2 of before, 2 in the store");
    expect(log[3]).toBe("loaded");
    expect(log.indexOf("event during")).toBeGreaterThan(log.indexOf("loaded"));
    expect(log.indexOf("pass")).toBeGreaterThan(log.indexOf("loaded"));
  });

  it("ends when the store closes, and when stopped", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const { done } = start(store, clock);
    await settle();
    store.close();
    await expect(done).resolves.toBeUndefined();

    const other = new MemoryStore({ clock });
    const second = start(other, clock);
    await settle();
    await second.loop.stop();
    await expect(second.done).resolves.toBeUndefined();
  });
});
