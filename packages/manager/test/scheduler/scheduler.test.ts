import {
  ManualClock,
  NodeAvailability,
  NodeState,
  Task,
  TaskState,
  silentLogger,
  type StoreAction,
} from "@shoal/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ASSIGNED_MESSAGE, PENDING_MESSAGE, Scheduler, type SchedulerOptions } from "../../src/scheduler/scheduler.js";
import { LocalProposer, MemoryStore, type Proposer } from "../../src/state/store/index.js";
import { settle, until } from "../orchestrator/helpers.js";
import { GiB, makeNode, makeTask, makeTasks } from "./fixtures.js";

const running: Scheduler[] = [];
/** The test's time: the scheduler's debounce and retries, and the store's times. */
let clock: ManualClock;

beforeEach(() => {
  clock = new ManualClock(1_000_000);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function newStore(options: { proposer?: Proposer } = {}): MemoryStore {
  return new MemoryStore({ clock, ...options });
}

function start(store: MemoryStore, options: Partial<SchedulerOptions> = {}): Scheduler {
  const scheduler = new Scheduler({ store, logger: silentLogger(), clock, ...options });
  running.push(scheduler);
  void scheduler.run();
  return scheduler;
}

/** The scheduler's default quiet time: the clock moves this much per turn of the event loop. */
const STEP_MS = 5;

/** Waits until `fn` returns something, moving the manual clock STEP_MS per event-loop turn. */
async function waitFor<T>(what: string, fn: () => T | undefined | false, turns = 2_000): Promise<T> {
  for (let i = 0; i < turns; i++) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advance(STEP_MS);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tasksOf = (store: MemoryStore, serviceId: string): Task[] => store.view((tx) => tx.tasks.find({ serviceId }));

/** Creates tasks as an orchestrator would: without meta (the store sets it). */
function fresh(tasks: Task[]): Task[] {
  return tasks.map((t) => Task.fromPartial({ ...t, meta: undefined }));
}

function allAssigned(store: MemoryStore, serviceId: string, n: number): Task[] | undefined {
  const ts = tasksOf(store, serviceId);
  return ts.length === n && ts.every((t) => t.status?.state === TaskState.ASSIGNED) ? ts : undefined;
}

describe("Scheduler", () => {
  it("assigns the pending tasks of a commit in one transaction, spread 2/2/2", async () => {
    const store = newStore();
    await store.update((tx) => ["a", "b", "c"].forEach((h) => tx.nodes.create(makeNode(h))));
    start(store);
    await store.update((tx) => fresh(makeTasks("web", 1, 6)).forEach((t) => tx.tasks.create(t)));
    const before = store.appliedIndex;
    const tasks = await waitFor("6 assigned tasks", () => allAssigned(store, "web", 6));
    expect(store.appliedIndex - before).toBe(1); // one proposal
    const perNode: Record<string, number> = {};
    for (const t of tasks) perNode[t.nodeId] = (perNode[t.nodeId] ?? 0) + 1;
    expect(perNode).toEqual({ a: 2, b: 2, c: 2 });
    expect(tasks[0]!.status).toMatchObject({ state: TaskState.ASSIGNED, message: ASSIGNED_MESSAGE, err: "" });
    expect(tasks[0]!.status!.timestamp).toBeInstanceOf(Date);
  });

  it("starts from the tasks already pending, and scales 6 -> 9 as 3/3/3", async () => {
    const store = newStore();
    await store.update((tx) => {
      ["a", "b", "c"].forEach((h) => tx.nodes.create(makeNode(h)));
      fresh(makeTasks("web", 1, 6)).forEach((t) => tx.tasks.create(t));
    });
    start(store);
    await waitFor("6 assigned", () => allAssigned(store, "web", 6));
    await store.update((tx) => fresh(makeTasks("web", 7, 9)).forEach((t) => tx.tasks.create(t)));
    const tasks = await waitFor("9 assigned", () => allAssigned(store, "web", 9));
    const perNode: Record<string, number> = {};
    for (const t of tasks) perNode[t.nodeId] = (perNode[t.nodeId] ?? 0) + 1;
    expect(perNode).toEqual({ a: 3, b: 3, c: 3 });
  });

  it("gives a task that fits nowhere its reason once, and places it when a node joins", async () => {
    const store = newStore();
    await store.update((tx) => tx.nodes.create(makeNode("small", { memoryBytes: GiB })));
    const scheduler = start(store);
    await store.update((tx) => tx.tasks.create(fresh([makeTask("big", 1, { memoryBytes: 2 * GiB })])[0]!));
    const pending = await waitFor("the reason", () => {
      const t = tasksOf(store, "big")[0];
      return t?.status?.state === TaskState.PENDING ? t : undefined;
    });
    expect(pending.status).toMatchObject({
      message: PENDING_MESSAGE,
      err: "no suitable node (insufficient memory on 1 node)",
    });
    expect(pending.nodeId).toBe("");

    // A change that leaves the reason as it is: a pass, but no write.
    const passes = scheduler.passCount;
    const index = store.appliedIndex;
    await store.update((tx) => {
      const n = tx.nodes.get("small")!;
      n.spec!.annotations!.labels["colour"] = "blue";
      tx.nodes.update(n);
    });
    await waitFor("another pass", () => scheduler.passCount > passes);
    clock.advance(100);
    await settle();
    expect(store.appliedIndex).toBe(index + 1);

    await store.update((tx) => tx.nodes.create(makeNode("large", { memoryBytes: 4 * GiB })));
    const placed = await waitFor("placement on the new node", () => allAssigned(store, "big", 1));
    expect(placed[0]!.nodeId).toBe("large");
  });

  it("retries when a node becomes ready, is relabelled, or resources free up", async () => {
    const store = newStore();
    await store.update((tx) => {
      tx.nodes.create(makeNode("a", { state: NodeState.DOWN }));
      tx.nodes.create(makeNode("b", { memoryBytes: 2 * GiB }));
      tx.tasks.create(fresh([makeTask("db", 1, { nodeId: "b", state: TaskState.RUNNING, memoryBytes: 2 * GiB })])[0]!);
    });
    start(store);
    await store.update((tx) => {
      for (const t of fresh([
        makeTask("zoned", 1, { constraints: ["node.labels.zone==eu"] }),
        makeTask("mem", 1, { memoryBytes: GiB, constraints: ["node.hostname==b"] }),
        makeTask("any", 1, { constraints: ["node.hostname==a"] }),
      ]))
        tx.tasks.create(t);
    });
    const errOf = (s: string): string | undefined => tasksOf(store, s)[0]?.status?.err || undefined;
    expect(await waitFor("zoned reason", () => errOf("zoned"))).toBe(
      "no suitable node (node not ready on 1 node, scheduling constraints not satisfied on 1 node)",
    );
    expect(await waitFor("mem reason", () => errOf("mem"))).toBe(
      "no suitable node (node not ready on 1 node, insufficient memory on 1 node)",
    );

    await store.update((tx) => {
      const a = tx.nodes.get("a")!;
      a.status!.state = NodeState.READY;
      tx.nodes.update(a);
    });
    expect((await waitFor("any placed", () => allAssigned(store, "any", 1)))[0]!.nodeId).toBe("a");

    await store.update((tx) => {
      const b = tx.nodes.get("b")!;
      b.spec!.annotations!.labels["zone"] = "eu";
      tx.nodes.update(b);
    });
    expect((await waitFor("zoned placed", () => allAssigned(store, "zoned", 1)))[0]!.nodeId).toBe("b");

    await store.update((tx) => {
      const db = tx.tasks.get("db.1")!;
      db.status!.state = TaskState.COMPLETE;
      tx.tasks.update(db);
    });
    expect((await waitFor("mem placed", () => allAssigned(store, "mem", 1)))[0]!.nodeId).toBe("b");
  });

  it("assigns preassigned tasks to their node, and nothing to drained nodes", async () => {
    const store = newStore();
    await store.update((tx) => {
      tx.nodes.create(makeNode("a"));
      tx.nodes.create(makeNode("d", { availability: NodeAvailability.DRAIN }));
    });
    start(store);
    await store.update((tx) => {
      tx.tasks.create(fresh([makeTask("g", 0, { id: "g-a", nodeId: "a" })])[0]!);
      tx.tasks.create(fresh([makeTask("g", 0, { id: "g-d", nodeId: "d" })])[0]!);
    });
    await waitFor("g-a assigned", () => store.view((tx) => tx.tasks.get("g-a"))?.status?.state === TaskState.ASSIGNED);
    const gd = await waitFor("g-d reason", () => {
      const t = store.view((tx) => tx.tasks.get("g-d"));
      return t?.status?.state === TaskState.PENDING ? t : undefined;
    });
    expect(gd.status!.err).toBe("no suitable node (node paused or drained on 1 node)");
    expect(gd.nodeId).toBe("d");
  });

  it("skips a task that changed while its pass was being written, and places it in the next pass", async () => {
    const gated = new GatedProposer();
    const store = newStore({ proposer: gated });
    gated.attach(store);
    await store.update((tx) => tx.nodes.create(makeNode("a")));
    // A failed write would be retried only after a minute: the placement must come from the skip.
    const scheduler = start(store, { retryDelayMs: 60_000 });
    await store.update((tx) => tx.tasks.create(fresh([makeTask("web", 1)])[0]!));
    // Hold the next proposal: a change to the task that the scheduler's write must queue behind.
    gated.close();
    const change = store.update((tx) => {
      const t = tx.tasks.get("web.1")!;
      t.annotations = { name: "web.1", labels: { touched: "yes" } };
      tx.tasks.update(t);
    });
    await waitFor("a pass waiting to write", () => scheduler.passCount >= 1);
    gated.open();
    await change;
    const [task] = await waitFor("assigned", () => allAssigned(store, "web", 1));
    expect(task!.annotations!.labels).toEqual({ touched: "yes" });
    expect(scheduler.passCount).toBeGreaterThanOrEqual(2);
  });

  it("writes a very large pass in transactions of maxWritesPerTransaction tasks", async () => {
    const store = newStore();
    await store.update((tx) => ["a", "b"].forEach((h) => tx.nodes.create(makeNode(h))));
    start(store, { maxWritesPerTransaction: 4 });
    await store.update((tx) => fresh(makeTasks("web", 1, 10)).forEach((t) => tx.tasks.create(t)));
    const before = store.appliedIndex;
    await waitFor("10 assigned", () => allAssigned(store, "web", 10));
    expect(store.appliedIndex - before).toBe(3);
  });

  it("reads the state again when the store is restored from a snapshot", async () => {
    const store = newStore();
    await store.update((tx) => tx.nodes.create(makeNode("a")));
    start(store);
    const other = newStore();
    await other.update((tx) => {
      tx.nodes.create(makeNode("b"));
      tx.tasks.create(fresh([makeTask("web", 1)])[0]!);
    });
    store.restore(other.save());
    const [task] = await waitFor("assigned after the restore", () => allAssigned(store, "web", 1));
    expect(task!.nodeId).toBe("b");
  });

  it("debounces on its clock: 5 ms of quiet, but at most 50 ms after the first commit", async () => {
    const store = newStore();
    await store.update((tx) => tx.nodes.create(makeNode("a")));
    const scheduler = start(store);
    await settle();
    await store.update((tx) => tx.tasks.create(fresh([makeTask("one", 1)])[0]!));
    await settle();
    clock.advance(4);
    await settle();
    expect(scheduler.passCount).toBe(0);
    clock.advance(1);
    await until(() => allAssigned(store, "one", 1) !== undefined, "a pass after 5 ms of quiet");
    expect(scheduler.passCount).toBe(1);

    // A commit every 4 ms is never 5 ms of quiet: the pass comes at the 50 ms cap.
    for (let i = 1; i <= 12; i++) {
      await store.update((tx) => tx.tasks.create(fresh([makeTask("trickle", i)])[0]!));
      await settle();
      clock.advance(4);
      await settle();
    }
    expect(scheduler.passCount).toBe(1);
    await store.update((tx) => tx.tasks.create(fresh([makeTask("trickle", 13)])[0]!));
    await settle();
    clock.advance(2);
    await until(() => allAssigned(store, "trickle", 13) !== undefined, "a pass at the latency cap");
    expect(scheduler.passCount).toBe(2);
  });

  it("tries a pass whose write failed again after retryDelayMs", async () => {
    const flaky = new FlakyProposer();
    const store = newStore({ proposer: flaky });
    flaky.attach(store);
    await store.update((tx) => tx.nodes.create(makeNode("a")));
    const scheduler = start(store, { retryDelayMs: 1_000 });
    await settle();
    await store.update((tx) => tx.tasks.create(fresh([makeTask("web", 1)])[0]!));
    flaky.failures = 1; // the scheduler's first write
    await settle();
    clock.advance(5);
    await until(() => scheduler.passCount === 1, "the first pass");
    await settle();
    expect(allAssigned(store, "web", 1)).toBeUndefined();
    clock.advance(999);
    await settle();
    expect(scheduler.passCount).toBe(1);
    clock.advance(1);
    await until(() => allAssigned(store, "web", 1) !== undefined, "the retried pass");
    expect(scheduler.passCount).toBe(2);
  });

  it("stops idempotently, runs once, and ends when the store closes", async () => {
    const store = newStore();
    const scheduler = new Scheduler({ store, logger: silentLogger(), clock });
    const run = scheduler.run();
    await expect(scheduler.run()).rejects.toThrow(/runs once/);
    await scheduler.stop();
    await scheduler.stop();
    await expect(run).resolves.toBeUndefined();

    const other = new Scheduler({ store, logger: silentLogger(), clock });
    const run2 = other.run();
    store.close();
    await expect(run2).resolves.toBeUndefined();

    const ac = new AbortController();
    const third = new Scheduler({ store: newStore(), logger: silentLogger(), clock });
    const run3 = third.run(ac.signal);
    ac.abort();
    await expect(run3).resolves.toBeUndefined();
  });
});

/** A LocalProposer whose proposals can be held back. */
class GatedProposer implements Proposer {
  private readonly local = new LocalProposer();
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  attach(store: MemoryStore): void {
    this.local.attach(store);
  }

  close(): void {
    this.gate = new Promise((r) => (this.release = r));
  }

  open(): void {
    this.release();
  }

  async propose(actions: StoreAction[], signal?: AbortSignal): Promise<{ index: number }> {
    await this.gate;
    return this.local.propose(actions, signal);
  }
}

/** A LocalProposer that refuses the next `failures` proposals (leadership lost for a moment). */
class FlakyProposer implements Proposer {
  private readonly local = new LocalProposer();
  failures = 0;

  attach(store: MemoryStore): void {
    this.local.attach(store);
  }

  async propose(actions: StoreAction[], signal?: AbortSignal): Promise<{ index: number }> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("not the leader for a moment");
    }
    return this.local.propose(actions, signal);
  }
}
