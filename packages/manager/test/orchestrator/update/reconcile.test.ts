import { Service, TaskState, UpdateFailureAction, UpdateOrder, UpdateState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { planRestarts } from "../../../src/orchestrator/restart/reconcile.js";
import { matchEveryNode } from "../../../src/orchestrator/node-checks.js";
import { planUpdate, type UpdateInput } from "../../../src/orchestrator/update/reconcile.js";
import { idSource, node, task } from "../fixtures.js";
import { atVersion, imageOf, rollout } from "./fixtures.js";

const NOW = 100_000;

function input(service: Service, tasks: Task[], extra: Partial<UpdateInput> = {}): UpdateInput {
  return {
    service,
    tasks,
    node: (id) => node(id),
    nodeMatches: matchEveryNode,
    now: NOW,
    newId: idSource(),
    ...extra,
  };
}

/** Running tasks of version 1 in slots 1..n. */
function oldTasks(svc: Service, n: number): Task[] {
  const v1 = atVersion(svc, 1);
  return Array.from({ length: n }, (_, i) =>
    task(v1, { id: `old-${i + 1}`, slot: i + 1, nodeId: "n1", specVersion: 1, created: 1_000, updated: 1_000 }),
  );
}

/** A task of the service's current spec version. */
function fresh(svc: Service, o: Parameters<typeof task>[1] = {}): Task {
  return task(svc, { specVersion: svc.specVersion?.index ?? 1, ...o });
}

function creates(d: ReturnType<typeof planUpdate>): Task[] {
  return d.plan.ops.flatMap((op) => (op.kind === "create" ? [op.task] : []));
}

function shutdowns(d: ReturnType<typeof planUpdate>): string[] {
  return d.plan.ops.flatMap((op) => (op.kind === "raise" && op.desiredState === TaskState.SHUTDOWN ? [op.id] : []));
}

describe("planUpdate", () => {
  it("stop-first: shuts down `parallelism` old tasks, and makes nothing before they stopped", () => {
    const svc = rollout("web", { replicas: 6, update: { parallelism: 2 } });
    const d = planUpdate(input(svc, oldTasks(svc, 6)));
    expect(shutdowns(d)).toEqual(["old-1", "old-2"]);
    expect(creates(d)).toEqual([]);
    expect(d.service).toBeUndefined();
    expect(d.busy).toBe(true);
  });

  it("stop-first: replaces a stopped task from the current spec, with the replacement guard", () => {
    const svc = rollout("web", { replicas: 2, update: { parallelism: 1 } });
    const [a, b] = oldTasks(svc, 2);
    a!.desiredState = TaskState.SHUTDOWN;
    a!.status!.state = TaskState.SHUTDOWN;
    const d = planUpdate(input(svc, [a!, b!]));
    expect(creates(d).map((t) => [t.slot, t.specVersion?.index, t.spec?.container?.image])).toEqual([
      [1, 2, imageOf(2)],
    ]);
    expect(d.plan.ops[0]).toMatchObject({ kind: "create", guard: "replacement", replaces: a!.id });
    expect(shutdowns(d)).toEqual([]); // slot 1 is in flight: parallelism 1
  });

  it("the restart supervisor leaves a slot the updater emptied to it", () => {
    const svc = rollout("web", { replicas: 1 });
    const [a] = oldTasks(svc, 1);
    a!.desiredState = TaskState.SHUTDOWN; // still stopping: status RUNNING
    const restarts = planRestarts(
      { service: () => svc, node: (id) => node(id), nodeMatches: matchEveryNode, now: NOW, due: new Map() },
      [{ ref: { serviceId: svc.id, slot: 1 }, tasks: [a!] }],
    );
    expect(restarts.plan.size).toBe(0);
    expect(restarts.wake.size).toBe(0);
  });

  it("start-first: makes the new task next to the old one, and shuts the old one once the new one runs", () => {
    const svc = rollout("web", { replicas: 3, update: { parallelism: 2, order: UpdateOrder.START_FIRST } });
    const old = oldTasks(svc, 3);
    const first = planUpdate(input(svc, old));
    expect(shutdowns(first)).toEqual([]);
    expect(creates(first).map((t) => t.slot)).toEqual([1, 2]);

    const made = creates(first).map((t) => ({ ...t, nodeId: "n2", meta: old[0]!.meta }));
    made[0]!.status!.state = TaskState.RUNNING;
    const second = planUpdate(input(svc, [...old, ...made]));
    expect(shutdowns(second)).toEqual(["old-1"]);
    expect(creates(second)).toEqual([]); // both slots still in flight
  });

  it("completes once every slot runs the new spec past its monitor period", () => {
    const svc = rollout("web", { replicas: 2 });
    const running = [1, 2].map((slot) =>
      fresh(svc, { slot, nodeId: "n1", created: NOW - 3_000, updated: NOW - 3_000 }),
    );
    const monitoring = planUpdate(input(svc, running));
    expect(monitoring.service).toBeUndefined();
    expect(monitoring.wakeAt).toBe(NOW + 2_000);

    const done = planUpdate(input(svc, running, { now: NOW + 2_000 }));
    expect(done.service?.updateStatus).toMatchObject({ state: UpdateState.COMPLETED, message: "update completed" });
    expect(done.service?.updateStatus?.completedAt).toEqual(new Date(NOW + 2_000));
    expect(done.busy).toBe(false);
  });

  it("waits `delay` after a slot's new task runs before taking the next slot", () => {
    const svc = rollout("web", { replicas: 2, update: { parallelism: 1, delayMs: 10_000 } });
    const [, b] = oldTasks(svc, 2);
    const running = fresh(svc, { slot: 1, nodeId: "n1", created: NOW - 4_000, updated: NOW - 4_000 });
    const waiting = planUpdate(input(svc, [running, b!]));
    expect(waiting.plan.size).toBe(0);
    expect(waiting.wakeAt).toBe(NOW + 1_000); // the monitor period ends first
    const later = planUpdate(input(svc, [running, b!], { now: NOW + 5_999 }));
    expect(shutdowns(later)).toEqual([]);
    expect(later.wakeAt).toBe(NOW + 6_000);
    expect(shutdowns(planUpdate(input(svc, [running, b!], { now: NOW + 6_000 })))).toEqual(["old-2"]);
  });

  it("pauses on a new task that fails, naming it, and starts no other slot", () => {
    const svc = rollout("web", { replicas: 3 });
    const [, b, c] = oldTasks(svc, 3);
    const failed = fresh(svc, { id: "bad", slot: 1, nodeId: "n1", state: TaskState.REJECTED, created: NOW - 10 });
    const d = planUpdate(input(svc, [failed, b!, c!]));
    expect(d.service?.updateStatus).toMatchObject({
      state: UpdateState.PAUSED,
      message: "update paused due to failure or early termination of task bad",
    });
    expect(d.plan.size).toBe(0);
    // Paused: nothing more, until the next update.
    expect(planUpdate(input(d.service!, [failed, b!, c!])).plan.size).toBe(0);
  });

  it("counts a task that ended within the monitor period as a failure, not one that ran longer", () => {
    const svc = rollout("web", { replicas: 2, update: { monitorMs: 5_000 } });
    const [, b] = oldTasks(svc, 2);
    const ended = fresh(svc, {
      id: "x",
      slot: 1,
      nodeId: "n1",
      state: TaskState.FAILED,
      created: NOW - 60_000,
      updated: NOW - 1_000,
    });
    const early = planUpdate(input(svc, [ended, b!], { ranFor: () => 2_000 }));
    expect(early.service?.updateStatus?.state).toBe(UpdateState.PAUSED);
    const late = planUpdate(input(svc, [ended, b!], { ranFor: () => 6_000 }));
    expect(late.service).toBeUndefined();
    expect(shutdowns(late)).toEqual(["old-2"]);
    // Not seen ending (a new leader): its whole life bounds how long it ran.
    expect(planUpdate(input(svc, [ended, b!], { ranFor: () => undefined })).service).toBeUndefined();
  });

  it("goes on below max_failure_ratio, and applies failure_action above it", () => {
    const update = { parallelism: 0, maxFailureRatio: 0.2 };
    const svc = rollout("web", { replicas: 6, update });
    const failed = (id: string, slot: number): Task =>
      fresh(svc, { id, slot, nodeId: "n1", state: TaskState.FAILED, created: NOW - 10 });
    const old = oldTasks(svc, 6);
    const one = planUpdate(input(svc, [failed("f1", 1), ...old.slice(1)]));
    expect(one.service).toBeUndefined();
    expect(shutdowns(one)).toHaveLength(5);
    const two = planUpdate(input(svc, [failed("f1", 1), failed("f2", 2), ...old.slice(2)]));
    expect(two.service?.updateStatus?.state).toBe(UpdateState.PAUSED);
  });

  it("continue: a failure changes nothing", () => {
    const svc = rollout("web", { replicas: 2, update: { failureAction: UpdateFailureAction.CONTINUE } });
    const [, b] = oldTasks(svc, 2);
    const failed = fresh(svc, { id: "bad", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: NOW - 10 });
    const d = planUpdate(input(svc, [failed, b!]));
    expect(d.service).toBeUndefined();
    expect(shutdowns(d)).toEqual(["old-2"]);
  });

  it("rollback: returns to the previous spec with a new spec version, using rollback_config", () => {
    const svc = rollout("web", {
      replicas: 4,
      update: { failureAction: UpdateFailureAction.ROLLBACK },
      rollback: { parallelism: 3 },
    });
    const old = oldTasks(svc, 4);
    const failed = fresh(svc, { id: "bad", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: NOW - 10 });
    const d = planUpdate(input(svc, [failed, ...old.slice(1)]));
    const back = d.service!;
    expect(back.updateStatus).toMatchObject({
      state: UpdateState.ROLLBACK_STARTED,
      message: "update rolled back due to failure or early termination of task bad",
      startedAt: new Date(NOW),
    });
    expect(back.specVersion?.index).toBe(3);
    expect(back.spec?.taskTemplate?.container?.image).toBe(imageOf(1));
    expect(back.previousSpec?.taskTemplate?.container?.image).toBe(imageOf(2));
    // Slot 1 (its only task is of the failed spec) gets a task of the old image; the untouched
    // slots run the old image already.
    const next = planUpdate(input(back, [{ ...failed, desiredState: TaskState.SHUTDOWN }, ...old.slice(1)]));
    expect(creates(next)).toEqual([]);
    expect(next.service).toBeUndefined();
    const failedRunning = { ...failed, status: { ...failed.status!, state: TaskState.RUNNING } };
    const replacing = planUpdate(input(back, [failedRunning, ...old.slice(1)]));
    expect(shutdowns(replacing)).toEqual(["bad"]);
  });

  it("a rollback that fails pauses", () => {
    const svc = rollout("web", { replicas: 2, state: UpdateState.ROLLBACK_STARTED });
    const failed = fresh(svc, { id: "bad", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: NOW - 10 });
    const d = planUpdate(input(svc, [failed, ...oldTasks(svc, 2).slice(1)]));
    expect(d.service?.updateStatus).toMatchObject({
      state: UpdateState.ROLLBACK_PAUSED,
      message: "rollback paused due to failure or early termination of task bad",
    });
  });

  it("finishes a slot it emptied even while paused", () => {
    const svc = rollout("web", { replicas: 2, state: UpdateState.PAUSED });
    const [a, b] = oldTasks(svc, 2);
    a!.desiredState = TaskState.SHUTDOWN;
    a!.status!.state = TaskState.SHUTDOWN;
    const d = planUpdate(input(svc, [a!, b!]));
    expect(creates(d).map((t) => t.slot)).toEqual([1]);
    expect(shutdowns(d)).toEqual([]);
  });

  it("updates a global service node by node", () => {
    const svc = rollout("agent", { global: true, update: { parallelism: 1 } });
    const v1 = atVersion(svc, 1);
    const tasks = ["n1", "n2"].map((n) => task(v1, { id: `old-${n}`, nodeId: n, specVersion: 1, created: 1 }));
    const first = planUpdate(input(svc, tasks));
    expect(shutdowns(first)).toEqual(["old-n1"]);
    tasks[0]!.desiredState = TaskState.SHUTDOWN;
    tasks[0]!.status!.state = TaskState.SHUTDOWN;
    const second = planUpdate(input(svc, tasks));
    expect(creates(second).map((t) => [t.nodeId, t.slot, t.spec?.container?.image])).toEqual([["n1", 0, imageOf(2)]]);
  });

  it("a forced update (force_update bumped) replaces tasks whose spec is otherwise the same", () => {
    const svc = rollout("web", { replicas: 1, image: imageOf(1) });
    const [a] = oldTasks(svc, 1);
    svc.spec!.taskTemplate!.forceUpdate = 1;
    expect(shutdowns(planUpdate(input(svc, [a!])))).toEqual(["old-1"]);
    // Same definition at an older version (a rollback's untouched slots): nothing to do.
    const same = Service.fromPartial(svc);
    same.spec!.taskTemplate!.forceUpdate = 0;
    expect(planUpdate(input(same, [a!])).plan.size).toBe(0);
  });

  it("starts a rollout for outdated tasks without an update status", () => {
    const svc = rollout("web", { replicas: 1 });
    svc.updateStatus = undefined;
    const d = planUpdate(input(svc, oldTasks(svc, 1)));
    expect(d.service?.updateStatus).toMatchObject({ state: UpdateState.UPDATING, message: "update in progress" });
    expect(shutdowns(d)).toEqual(["old-1"]);
  });
});
