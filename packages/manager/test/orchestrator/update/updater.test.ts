import type { ManualClock } from "@shoal/shared";
import { Service, TaskState, UpdateFailureAction, UpdateOrder, UpdateState, type Task } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { updateService } from "../../../src/controlapi/services.js";
import { GlobalOrchestrator } from "../../../src/orchestrator/global/orchestrator.js";
import { ReplicatedOrchestrator } from "../../../src/orchestrator/replicated/orchestrator.js";
import { RestartSupervisor } from "../../../src/orchestrator/restart/supervisor.js";
import { Updater } from "../../../src/orchestrator/update/updater.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node, service } from "../fixtures.js";
import { settle, setup, tasksOf, until } from "../helpers.js";
import { imageOf, updateConfig, type ConfigOptions } from "./fixtures.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Component {
  run(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

function start<T extends Component>(c: T): T {
  void c.run();
  stops.push(() => c.stop());
  return c;
}

/** The orchestrators and the updater on one store, as a leader runs them. */
function leader(store: MemoryStore, clock: ManualClock, logger: ReturnType<typeof setup>["logger"]): Updater {
  start(new ReplicatedOrchestrator({ store, logger, clock }));
  start(new GlobalOrchestrator({ store, logger, clock }));
  start(new RestartSupervisor({ store, logger, clock }));
  return start(new Updater({ store, logger, clock }));
}

const BAD = "registry:5000/app:missing";

/**
 * One step of every agent at once: a wanted task not running yet is placed on n1 and runs (or is
 * rejected, for image BAD); a task asked to stop stops. Returns how many containers run after it.
 */
async function agents(store: MemoryStore): Promise<void> {
  await store.update((tx) => {
    for (const t of tx.tasks.find()) {
      const state = t.status?.state ?? TaskState.NEW;
      if (t.desiredState >= TaskState.SHUTDOWN && state <= TaskState.RUNNING) {
        t.status = { ...t.status!, state: TaskState.SHUTDOWN };
        tx.tasks.update(t);
      } else if (t.desiredState <= TaskState.RUNNING && state < TaskState.RUNNING) {
        if (t.nodeId === "") t.nodeId = "n1";
        const bad = t.spec?.container?.image === BAD;
        t.status = { ...t.status!, state: bad ? TaskState.REJECTED : TaskState.RUNNING };
        tx.tasks.update(t);
      }
    }
  });
}

function running(store: MemoryStore, serviceId: string): Task[] {
  return tasksOf(store, serviceId).filter((t) => t.status?.state === TaskState.RUNNING);
}

function statusOf(store: MemoryStore, id: string): UpdateState | undefined {
  return store.view((tx) => tx.services.get(id))?.updateStatus?.state;
}

/** Sends a new spec through the control API, as `shoal service update` does. */
async function update(store: MemoryStore, id: string, change: (s: Service) => void, rollback = false): Promise<void> {
  const current = store.view((tx) => tx.services.get(id))!;
  const spec = Service.fromPartial(current).spec!;
  change({ ...current, spec });
  await updateService(store, { serviceId: id, serviceVersion: current.meta?.version, spec, rollback });
}

function setImage(image: string, config?: ConfigOptions): (s: Service) => void {
  return (s) => {
    s.spec!.taskTemplate!.container!.image = image;
    if (config !== undefined) s.spec!.updateConfig = updateConfig(config);
  };
}

/** Runs agents and lets the components react until `done`; records running counts on the way. */
async function drive(store: MemoryStore, clock: ManualClock, done: () => boolean, counts: number[] = [], id = "") {
  for (let i = 0; i < 200 && !done(); i++) {
    await settle();
    if (id !== "") counts.push(running(store, id).length);
    await agents(store);
    await settle();
    if (id !== "") counts.push(running(store, id).length);
    if (i % 5 === 4) clock.advance(1_000);
  }
  if (!done()) throw new Error("rollout did not finish");
}

async function startService(store: MemoryStore, clock: ManualClock, svc: Service): Promise<void> {
  await store.update((tx) => {
    tx.nodes.create(node("n1"));
    tx.services.create(svc);
  });
  await drive(
    store,
    clock,
    () => running(store, svc.id).length === (svc.spec!.mode?.$case === "global" ? 1 : replicas(svc)),
  );
}

function replicas(svc: Service): number {
  return svc.spec!.mode?.$case === "replicated" ? svc.spec!.mode.value.replicas : 0;
}

function images(store: MemoryStore, id: string): string[] {
  return running(store, id).map((t) => t.spec?.container?.image ?? "");
}

describe("Updater", () => {
  it("stop-first, parallelism 2 over 6 replicas: never fewer than 4 running, all updated in the end", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 6 });
    await startService(store, clock, svc);

    await update(store, svc.id, setImage(imageOf(2), { parallelism: 2 }));
    expect(statusOf(store, svc.id)).toBe(UpdateState.UPDATING);
    const counts: number[] = [];
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED, counts, svc.id);
    expect(Math.min(...counts)).toBe(4);
    expect(images(store, svc.id)).toEqual(Array(6).fill(imageOf(2)));
    const s = store.view((tx) => tx.services.get(svc.id))!;
    expect(s.updateStatus?.message).toBe("update completed");
    expect(s.updateStatus?.completedAt).toBeDefined();
  });

  it("start-first, parallelism 2 over 6 replicas: never more than 8 running", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 6 });
    await startService(store, clock, svc);

    await update(store, svc.id, setImage(imageOf(2), { parallelism: 2, order: UpdateOrder.START_FIRST }));
    const counts: number[] = [];
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED, counts, svc.id);
    expect(Math.max(...counts)).toBe(8);
    expect(Math.min(...counts)).toBe(6);
    expect(images(store, svc.id)).toEqual(Array(6).fill(imageOf(2)));
  });

  it("an image that does not exist pauses the update after the first batch", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 6 });
    await startService(store, clock, svc);

    await update(store, svc.id, setImage(BAD, { parallelism: 2 }));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.PAUSED);
    for (let i = 0; i < 10; i++) {
      await agents(store);
      clock.advance(1_000);
      await settle();
    }
    const s = store.view((tx) => tx.services.get(svc.id))!;
    expect(s.updateStatus?.message).toMatch(/^update paused due to failure or early termination of task \S+$/);
    const touched = new Set(
      tasksOf(store, svc.id)
        .filter((t) => t.spec?.container?.image === BAD)
        .map((t) => t.slot),
    );
    expect([...touched].sort()).toEqual([1, 2]);
    expect(running(store, svc.id)).toHaveLength(4);
  });

  it("rolls back by itself with rollback_config, every slot running the old image again", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 4 });
    svc.spec!.taskTemplate!.container!.image = imageOf(1);
    svc.spec!.taskTemplate!.restartPolicy = {
      condition: 0,
      delay: { seconds: 1, nanos: 0 },
      maxAttempts: 0,
      window: undefined,
    };
    svc.spec!.rollbackConfig = updateConfig({ parallelism: 0 });
    await startService(store, clock, svc);

    await update(store, svc.id, setImage(BAD, { parallelism: 1, failureAction: UpdateFailureAction.ROLLBACK }));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.ROLLBACK_STARTED);
    const s = store.view((tx) => tx.services.get(svc.id))!;
    expect(s.updateStatus?.message).toMatch(/^update rolled back due to failure or early termination of task /);
    expect(s.spec?.taskTemplate?.container?.image).toBe(imageOf(1));
    expect(s.previousSpec?.taskTemplate?.container?.image).toBe(BAD);
    expect(s.specVersion?.index).toBe(3);
    await drive(
      store,
      clock,
      () => statusOf(store, svc.id) === UpdateState.ROLLBACK_COMPLETED && running(store, svc.id).length === 4,
    );
    expect(images(store, svc.id)).toEqual(Array(4).fill(imageOf(1)));
    expect(store.view((tx) => tx.services.get(svc.id))!.updateStatus?.message).toBe("rollback completed");
  });

  it("continue: goes on past failures and completes", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 3 });
    svc.spec!.taskTemplate!.restartPolicy = { condition: 2, delay: undefined, maxAttempts: 0, window: undefined };
    await startService(store, clock, svc);
    await update(store, svc.id, setImage(BAD, { parallelism: 1, failureAction: UpdateFailureAction.CONTINUE }));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED);
    expect(tasksOf(store, svc.id).filter((t) => t.spec?.container?.image === BAD)).toHaveLength(3);
  });

  it("a new leader's updater continues the rollout without touching the slots already updated", async () => {
    const { store, clock, logger } = setup();
    start(new ReplicatedOrchestrator({ store, logger, clock }));
    start(new RestartSupervisor({ store, logger, clock }));
    const first = start(new Updater({ store, logger, clock }));
    const svc = service("web", { replicas: 6 });
    await startService(store, clock, svc);
    await update(store, svc.id, setImage(imageOf(2), { parallelism: 2 }));
    await drive(store, clock, () => images(store, svc.id).filter((i) => i === imageOf(2)).length >= 2);
    await first.stop();
    const updated = running(store, svc.id).filter((t) => t.spec?.container?.image === imageOf(2));
    expect(updated.length).toBeGreaterThanOrEqual(2);
    expect(updated.length).toBeLessThan(6);
    expect(statusOf(store, svc.id)).toBe(UpdateState.UPDATING);

    start(new Updater({ store, logger, clock }));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED);
    const after = running(store, svc.id);
    for (const t of updated) expect(after.map((x) => x.id)).toContain(t.id);
    expect(images(store, svc.id)).toEqual(Array(6).fill(imageOf(2)));
  });

  it("rolls back when asked (rollback in the request), with ROLLBACK_STARTED then ROLLBACK_COMPLETED", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 2 });
    svc.spec!.taskTemplate!.container!.image = imageOf(1);
    await startService(store, clock, svc);
    await update(store, svc.id, setImage(imageOf(2)));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED);

    await update(store, svc.id, () => undefined, true);
    const s = store.view((tx) => tx.services.get(svc.id))!;
    expect(s.updateStatus).toMatchObject({
      state: UpdateState.ROLLBACK_STARTED,
      message: "manually requested rollback",
    });
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.ROLLBACK_COMPLETED);
    expect(images(store, svc.id)).toEqual(Array(2).fill(imageOf(1)));
  });

  it("rolls a global service node by node", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("agent", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("n2"));
      tx.nodes.create(node("n3"));
    });
    await store.update((tx) => tx.nodes.create(node("n1")));
    await store.update((tx) => tx.services.create(svc));
    await drive(store, clock, () => running(store, svc.id).length === 3);
    await update(store, svc.id, setImage(imageOf(2)));
    const counts: number[] = [];
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED, counts, svc.id);
    expect(Math.min(...counts)).toBe(2);
    expect(images(store, svc.id)).toEqual(Array(3).fill(imageOf(2)));
    expect(
      running(store, svc.id)
        .map((t) => t.nodeId)
        .sort(),
    ).toEqual(["n1", "n2", "n3"]);
  });

  it("--force (force_update bumped) redeploys every task", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 2 });
    await startService(store, clock, svc);
    const before = running(store, svc.id).map((t) => t.id);
    await update(store, svc.id, (s) => (s.spec!.taskTemplate!.forceUpdate += 1));
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED);
    const after = running(store, svc.id);
    expect(after).toHaveLength(2);
    for (const t of after) expect(before).not.toContain(t.id);
  });

  it("a task that fails within the monitor period after it ran pauses the update", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 3 });
    await startService(store, clock, svc);
    await update(store, svc.id, setImage(imageOf(2), { parallelism: 1, monitorMs: 10_000 }));
    await settle();
    await agents(store); // the old one stops, its replacement comes
    await until(() => tasksOf(store, svc.id).some((t) => t.spec?.container?.image === imageOf(2)), "a new task");
    await agents(store); // the replacement runs
    await settle();
    const fresh = running(store, svc.id).find((t) => t.spec?.container?.image === imageOf(2))!;
    clock.advance(3_000);
    await store.update((tx) => {
      const t = tx.tasks.get(fresh.id)!;
      t.status = { ...t.status!, state: TaskState.FAILED };
      tx.tasks.update(t);
    });
    await until(() => statusOf(store, svc.id) === UpdateState.PAUSED, "paused");
  });

  it("waits `delay` between batches", async () => {
    const { store, clock, logger } = setup();
    leader(store, clock, logger);
    const svc = service("web", { replicas: 2 });
    svc.spec!.taskTemplate!.container!.image = imageOf(1);
    await startService(store, clock, svc);
    await update(store, svc.id, setImage(imageOf(2), { parallelism: 1, delayMs: 30_000, monitorMs: 0 }));
    for (let i = 0; i < 4; i++) {
      await settle();
      await agents(store);
    }
    await settle();
    expect(images(store, svc.id).sort()).toEqual([imageOf(1), imageOf(2)].sort());
    clock.advance(29_000);
    await settle();
    await agents(store);
    await settle();
    expect(images(store, svc.id).filter((i) => i === imageOf(2))).toHaveLength(1);
    clock.advance(1_000);
    await drive(store, clock, () => statusOf(store, svc.id) === UpdateState.COMPLETED);
  });
});
