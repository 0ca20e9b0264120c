// The scheduler and the allocator together: a task that joins a network waits for its addresses,
// then goes only to a node whose agent drives the network data plane.
import { ManualClock, TaskState, silentLogger, type Task } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { Allocator } from "../../src/allocator/index.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { needsPlacement } from "../../src/scheduler/task-rules.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { network, node, task } from "../allocator/fixtures.js";

const clock = new ManualClock(1_000_000);
const running: Array<Scheduler | Allocator> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

function start<T extends Scheduler | Allocator>(component: T): T {
  running.push(component);
  void component.run();
  return component;
}

/** Event-loop turns with the clock moving past the scheduler's debounce. */
async function turns(n: number, until?: () => boolean): Promise<void> {
  for (let i = 0; i < n && !(until?.() ?? false); i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.advance(5);
  }
}

const get = (store: MemoryStore, id: string): Task => store.view((tx) => tx.tasks.get(id))!;

describe("scheduling tasks that join networks", () => {
  it("places a task only once its networks are allocated, on a node with a data plane", async () => {
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.networks.create(network("front", "10.0.1.0/24"));
      tx.nodes.create(node("plain", false));
      tx.nodes.create(node("wired", true));
      tx.tasks.create(task("t1", { networks: ["front"] }));
      tx.tasks.create(task("solo", {}));
    });
    expect(needsPlacement(get(store, "t1"))).toBe(false);
    start(new Scheduler({ store, logger: silentLogger(), clock }));
    await turns(200, () => get(store, "solo").status?.state === TaskState.ASSIGNED);
    expect(get(store, "solo").status?.state).toBe(TaskState.ASSIGNED); // no network: as before
    await turns(50);
    expect(get(store, "t1").status?.state).toBe(TaskState.NEW); // waits for its addresses
    expect(get(store, "t1").nodeId).toBe("");

    // The allocator's write brings the task to the scheduler, which places it on "wired" only.
    start(new Allocator({ store, logger: silentLogger(), clock }));
    await turns(500, () => get(store, "t1").status?.state === TaskState.ASSIGNED);
    expect(get(store, "t1")).toMatchObject({ nodeId: "wired", status: { state: TaskState.ASSIGNED } });
    expect(get(store, "t1").networks[0]!.addresses).toEqual(["10.0.1.2/24"]);
  });

  it("says why when no node has a data plane", async () => {
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.networks.create(network("front", "10.0.1.0/24"));
      tx.nodes.create(node("plain", false));
      tx.tasks.create(task("t1", { networks: ["front"] }));
    });
    start(new Allocator({ store, logger: silentLogger(), clock }));
    start(new Scheduler({ store, logger: silentLogger(), clock }));
    await turns(500, () => get(store, "t1").status?.err !== "" && get(store, "t1").status?.err !== undefined);
    expect(get(store, "t1").status).toMatchObject({
      state: TaskState.PENDING,
      err: "no suitable node (no network data plane on 1 node)",
    });
  });
});
