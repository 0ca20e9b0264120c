import { NodeAvailability, NodeState, TaskState, type Logger, type ManualClock } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { ReplicatedOrchestrator } from "../../../src/orchestrator/replicated/orchestrator.js";
import { GlobalOrchestrator } from "../../../src/orchestrator/global/orchestrator.js";
import { RestartSupervisor } from "../../../src/orchestrator/restart/supervisor.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node, service } from "../fixtures.js";
import { place, report, runnable, settle, setup, tasksOf, until } from "../helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Started {
  supervisor: RestartSupervisor;
}

function startAll(store: MemoryStore, clock: ManualClock, logger: Logger, global = false): Started {
  const orchestrator = global
    ? new GlobalOrchestrator({ store, clock, logger })
    : new ReplicatedOrchestrator({ store, clock, logger });
  const supervisor = new RestartSupervisor({ store, clock, logger });
  void orchestrator.run();
  void supervisor.run();
  stops.push(
    () => orchestrator.stop(),
    () => supervisor.stop(),
  );
  return { supervisor };
}

async function setNode(store: MemoryStore, id: string, change: { state?: NodeState; availability?: NodeAvailability }) {
  await store.update((tx) => {
    const n = tx.nodes.get(id)!;
    if (change.state !== undefined) n.status!.state = change.state;
    if (change.availability !== undefined) n.spec!.availability = change.availability;
    tx.nodes.update(n);
  });
}

/** A service of `replicas` tasks, all running on node n1. */
async function runningService(store: MemoryStore, replicas: number, restart = {}) {
  const svc = service("web", { replicas, restart });
  await store.update((tx) => {
    tx.nodes.create(node("n1"));
    tx.nodes.create(node("n2"));
    tx.services.create(svc);
  });
  await until(() => tasksOf(store, svc.id).length === replicas, `${replicas} tasks`);
  for (const t of tasksOf(store, svc.id)) await place(store, t.id, "n1");
  return svc;
}

describe("RestartSupervisor", () => {
  it("replaces a task that failed after 5 s, not before; the old one is shut down at once", async () => {
    const { store, clock, logger } = setup();
    startAll(store, clock, logger);
    const svc = await runningService(store, 3);
    const victim = tasksOf(store, svc.id).find((t) => t.slot === 2)!;

    await report(store, victim.id, TaskState.FAILED, 1);
    await until(() => store.view((tx) => tx.tasks.get(victim.id))!.desiredState === TaskState.SHUTDOWN, "shutdown");
    clock.advance(4_999);
    await settle();
    expect(tasksOf(store, svc.id).filter((t) => t.slot === 2)).toHaveLength(1);
    expect(runnable(tasksOf(store, svc.id))).toHaveLength(2);

    clock.advance(1);
    await until(() => runnable(tasksOf(store, svc.id)).length === 3, "a successor");
    const slot2 = tasksOf(store, svc.id).filter((t) => t.slot === 2);
    expect(slot2).toHaveLength(2);
    const successor = slot2.find((t) => t.id !== victim.id)!;
    expect(successor).toMatchObject({ nodeId: "", desiredState: TaskState.RUNNING, status: { state: TaskState.NEW } });
    expect(successor.meta?.createdAt?.getTime()).toBe(1_000_000 + 5_000);
    await settle();
    expect(tasksOf(store, svc.id)).toHaveLength(4); // and nothing else
  });

  it("restarts a completed task too under the default condition, and counts attempts per slot", async () => {
    const { store, clock, logger } = setup();
    startAll(store, clock, logger);
    const svc = await runningService(store, 1, { maxAttempts: 2, delayMs: 1_000 });
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = runnable(tasksOf(store, svc.id))[0]!;
      await place(store, current.id, "n1");
      await report(store, current.id, attempt === 0 ? TaskState.COMPLETE : TaskState.FAILED);
      await settle();
      clock.advance(1_000);
      await settle();
    }
    const tasks = tasksOf(store, svc.id);
    expect(tasks).toHaveLength(3); // the first task and two restarts: then no more
    expect(runnable(tasks)).toHaveLength(0);
    expect(tasks.every((t) => t.desiredState === TaskState.SHUTDOWN)).toBe(true);
  });

  it("replaces the tasks of a node that goes down at once, without the delay", async () => {
    const { store, clock, logger } = setup();
    startAll(store, clock, logger);
    const svc = await runningService(store, 2);
    const before = tasksOf(store, svc.id);
    await setNode(store, "n1", { state: NodeState.DOWN });
    await until(() => runnable(tasksOf(store, svc.id)).filter((t) => t.nodeId === "").length === 2, "2 successors");
    for (const old of before) {
      const t = store.view((tx) => tx.tasks.get(old.id))!;
      expect(t.desiredState).toBe(TaskState.SHUTDOWN);
      expect(t.status?.state).toBe(TaskState.RUNNING); // as last reported: the node is silent
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it("moves a task placed on a node that is down already (the scheduler saw it up)", async () => {
    const { store, clock, logger } = setup();
    startAll(store, clock, logger);
    const svc = await runningService(store, 1);
    await setNode(store, "n2", { state: NodeState.DOWN });
    const [t] = tasksOf(store, svc.id);
    await store.update((tx) => {
      const x = tx.tasks.get(t!.id)!;
      x.nodeId = "n2";
      tx.tasks.update(x);
    });
    await until(() => store.view((tx) => tx.tasks.get(t!.id))!.desiredState === TaskState.SHUTDOWN, "moved");
    await until(() => runnable(tasksOf(store, svc.id)).length === 1, "a successor");
    expect(runnable(tasksOf(store, svc.id))[0]?.nodeId).toBe("");
  });

  it("moves the tasks of a drained node at once; a paused node keeps them", async () => {
    const { store, clock, logger } = setup();
    startAll(store, clock, logger);
    const svc = await runningService(store, 2);
    await setNode(store, "n1", { availability: NodeAvailability.PAUSE });
    await settle();
    expect(runnable(tasksOf(store, svc.id)).every((t) => t.nodeId === "n1")).toBe(true);
    await setNode(store, "n1", { availability: NodeAvailability.DRAIN });
    await until(() => runnable(tasksOf(store, svc.id)).every((t) => t.nodeId === ""), "moved");
    expect(runnable(tasksOf(store, svc.id))).toHaveLength(2);
  });

  it("a new leader's supervisor finds a restart waiting in the store and keeps its delay", async () => {
    const { store, clock, logger } = setup();
    const orchestrator = new ReplicatedOrchestrator({ store, clock, logger });
    void orchestrator.run();
    stops.push(() => orchestrator.stop());
    const first = new RestartSupervisor({ store, clock, logger });
    void first.run();
    const svc = await runningService(store, 1);
    const victim = tasksOf(store, svc.id)[0]!;
    await report(store, victim.id, TaskState.FAILED);
    await until(() => first.pendingRestarts().size === 1, "a restart waiting");
    clock.advance(2_000);
    await first.stop();
    expect(clock.pendingTimers).toBe(0); // its timers are gone with it

    const second = new RestartSupervisor({ store, clock, logger });
    void second.run();
    stops.push(() => second.stop());
    await until(() => second.pendingRestarts().size === 1, "the restart found again");
    expect([...second.pendingRestarts().values()]).toEqual([1_000_000 + 5_000]);
    clock.advance(2_999);
    await settle();
    expect(runnable(tasksOf(store, svc.id))).toHaveLength(0);
    clock.advance(1);
    await until(() => runnable(tasksOf(store, svc.id)).length === 1, "the successor");
  });

  it("drops a waiting restart when the service is removed or scaled down", async () => {
    const { store, clock, logger } = setup();
    const { supervisor } = startAll(store, clock, logger);
    const svc = await runningService(store, 2);
    const [a, b] = tasksOf(store, svc.id);
    await report(store, a!.id, TaskState.FAILED);
    await report(store, b!.id, TaskState.FAILED);
    await until(() => supervisor.pendingRestarts().size === 2, "two restarts waiting");
    await store.update((tx) => {
      const s = tx.services.get(svc.id)!;
      s.spec!.mode = { $case: "replicated", value: { replicas: 1 } };
      tx.services.update(s);
    });
    await until(() => supervisor.pendingRestarts().size === 1, "one restart left");
    await store.update((tx) => tx.services.delete(svc.id));
    await until(() => supervisor.pendingRestarts().size === 0, "none left");
    clock.advance(10_000);
    await settle();
    expect(runnable(tasksOf(store, svc.id))).toHaveLength(0);
  });

  it("restarts a global task on its node, and waits for a paused node to take tasks again", async () => {
    const { store, clock, logger } = setup();
    const { supervisor } = startAll(store, clock, logger, true);
    const svc = service("agent", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.services.create(svc);
    });
    await until(() => tasksOf(store, svc.id).length === 1, "a global task");
    const first = tasksOf(store, svc.id)[0]!;
    await place(store, first.id, "n1");
    await report(store, first.id, TaskState.FAILED);
    await until(() => supervisor.pendingRestarts().size === 1, "a restart waiting");
    await setNode(store, "n1", { availability: NodeAvailability.PAUSE });
    clock.advance(5_000);
    await settle();
    expect(runnable(tasksOf(store, svc.id))).toHaveLength(0);
    await setNode(store, "n1", { availability: NodeAvailability.ACTIVE });
    await until(() => runnable(tasksOf(store, svc.id)).length === 1, "restarted on n1");
    expect(runnable(tasksOf(store, svc.id))[0]).toMatchObject({ nodeId: "n1", slot: 0 });
  });
});
