import { ErrorCode, UpdateOrder, UpdateState, isShoalError } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { rebalanceService, updateService } from "../../../src/controlapi/services.js";
import { service } from "../fixtures.js";
import { tasksOf } from "../helpers.js";
import { addNode, drive, perNode, running, runningService, serviceOf, startLeader, type Leader } from "./leader.js";

const leaders: Leader[] = [];
afterEach(async () => {
  for (const l of leaders.splice(0)) await l.stop();
});

function leader(): Leader {
  const l = startLeader();
  leaders.push(l);
  return l;
}

const rebalanced = (l: Leader, id: string) => (): boolean =>
  serviceOf(l, id).rebalanceStatus?.state === UpdateState.COMPLETED;

describe("rebalancing a service (RebalanceService, carried out by the updater)", () => {
  it("6 replicas on 2 nodes and a third ready node: 2/2/2, stop-first parallelism 1, never below 5 running", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"] });
    expect(perNode(l.store, svc.id)).toEqual({ a: 3, b: 3 });
    await addNode(l, "c");

    const res = await rebalanceService(l.store, { serviceId: "web" }, l.clock);
    expect(res.toMove).toBe(2);
    expect(res.service?.rebalanceStatus?.state).toBe(UpdateState.UPDATING);
    expect(res.service?.rebalanceStatus?.taskIds).toHaveLength(2);

    const samples = await drive(l, rebalanced(l, svc.id), svc.id);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
    expect(Math.min(...samples.running)).toBe(5);
    expect(Math.max(...samples.moving)).toBe(1);
    const status = serviceOf(l, svc.id).rebalanceStatus!;
    expect(status.moved).toBe(2);
    expect(status.message).toBe("rebalance completed");
    expect(status.taskIds).toEqual([]);
    expect(status.completedAt).toBeDefined();
  });

  it("12 replicas on 2 nodes, 2 nodes join, parallelism 2: at most 2 slots moving, never below 10 running", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 12, nodes: ["a", "b"], update: { parallelism: 2 } });
    await addNode(l, "c");
    await addNode(l, "d");
    expect((await rebalanceService(l.store, { serviceId: svc.id }, l.clock)).toMove).toBe(6);
    const samples = await drive(l, rebalanced(l, svc.id), svc.id);
    expect(perNode(l.store, svc.id)).toEqual({ a: 3, b: 3, c: 3, d: 3 });
    expect(Math.max(...samples.moving)).toBe(2);
    expect(Math.min(...samples.running)).toBe(10);
  });

  it("start-first: never fewer than 6 running, at most one extra", async () => {
    const l = leader();
    const svc = await runningService(l, {
      replicas: 6,
      nodes: ["a", "b"],
      update: { parallelism: 1, order: UpdateOrder.START_FIRST },
    });
    await addNode(l, "c");
    expect((await rebalanceService(l.store, { serviceId: svc.id }, l.clock)).toMove).toBe(2);
    const samples = await drive(l, rebalanced(l, svc.id), svc.id);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
    expect(Math.min(...samples.running)).toBe(6);
    expect(Math.max(...samples.running)).toBe(7);
  });

  it("waits `delay` between moves", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"], update: { delayMs: 20_000 } });
    await addNode(l, "c");
    await rebalanceService(l.store, { serviceId: svc.id }, l.clock);
    const started = l.clock.now();
    await drive(l, rebalanced(l, svc.id), svc.id);
    // Two moves: the second starts 20 s after the first runs, and the rebalance ends 20 s after it.
    expect(l.clock.now() - started).toBeGreaterThanOrEqual(40_000);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("constraints: the new node that the service may not use gets nothing; to_move 0, nothing written", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"], constraints: ["node.labels.zone!=edge"] });
    await addNode(l, "c", { zone: "edge" });
    const before = serviceOf(l, svc.id);
    const res = await rebalanceService(l.store, { serviceId: svc.id }, l.clock);
    expect(res.toMove).toBe(0);
    expect(serviceOf(l, svc.id).meta?.version).toEqual(before.meta?.version);
    expect(serviceOf(l, svc.id).rebalanceStatus).toBeUndefined();
  });

  it("an already balanced service: to_move 0 and nothing changes", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b", "c"] });
    const tasks = running(l.store, svc.id).map((t) => t.id);
    const res = await rebalanceService(l.store, { serviceId: svc.id }, l.clock);
    expect(res.toMove).toBe(0);
    await drive(l, () => true);
    expect(running(l.store, svc.id).map((t) => t.id)).toEqual(tasks);
  });

  it("pauses when the moved tasks fail (failure action pause), leaving the others running", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"] });
    await addNode(l, "c");
    await rebalanceService(l.store, { serviceId: svc.id }, l.clock);
    const paused = (): boolean => serviceOf(l, svc.id).rebalanceStatus?.state === UpdateState.PAUSED;
    await drive(l, paused, svc.id, undefined, 500, "c");
    expect(serviceOf(l, svc.id).rebalanceStatus?.message).toMatch(
      /^rebalance paused due to failure or early termination of task \S+$/,
    );
    // Only the first move was tried; the other tasks stay where they were.
    const spread = perNode(l.store, svc.id);
    expect(spread["c"]).toBeUndefined();
    expect([spread["a"], spread["b"]].sort()).toEqual([2, 3]);
  });

  it("stands down when the service is updated meanwhile (interrupted), the update finishing the work", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"] });
    await addNode(l, "c");
    await rebalanceService(l.store, { serviceId: svc.id }, l.clock);
    const current = serviceOf(l, svc.id);
    const spec = { ...current.spec!, taskTemplate: { ...current.spec!.taskTemplate!, forceUpdate: 1 } };
    await updateService(l.store, { serviceId: svc.id, serviceVersion: current.meta?.version, spec, rollback: false });
    const refused = await rebalanceService(l.store, { serviceId: svc.id }, l.clock).catch((e: unknown) => e);
    expect(isShoalError(refused) && refused.code).toBe(ErrorCode.FailedPrecondition);
    expect((refused as Error).message).toMatch(/^service web is being updated \(update in progress\)/);
    await drive(l, () => serviceOf(l, svc.id).updateStatus?.state === UpdateState.COMPLETED, svc.id);
    const status = serviceOf(l, svc.id).rebalanceStatus!;
    expect(status.state).toBe(UpdateState.PAUSED);
    expect(status.message).toBe("rebalance interrupted: the service is being updated");
    expect(running(l.store, svc.id)).toHaveLength(6);
    // The update's new tasks were placed by the scheduler: spread already.
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
    expect((await rebalanceService(l.store, { serviceId: svc.id }, l.clock)).toMove).toBe(0);
  });

  it("a new leader carries a rebalance on where the old one left it, moving no task twice", async () => {
    const first = leader();
    const svc = await runningService(first, { replicas: 12, nodes: ["a", "b"] });
    await addNode(first, "c");
    await addNode(first, "d");
    expect((await rebalanceService(first.store, { serviceId: svc.id }, first.clock)).toMove).toBe(6);
    // Two moves done, the third in flight: then the leader's components stop, and a new term starts.
    await drive(first, () => (serviceOf(first, svc.id).rebalanceStatus?.moved ?? 0) >= 2);
    await first.stop();
    const second = startLeader(10_000, first);
    leaders.push(second);
    await drive(second, rebalanced(second, svc.id), svc.id);
    expect(perNode(second.store, svc.id)).toEqual({ a: 3, b: 3, c: 3, d: 3 });
    expect(serviceOf(second, svc.id).rebalanceStatus?.moved).toBe(6);
    // 12 first tasks and one replacement per move: no slot was moved twice.
    expect(tasksOf(second.store, svc.id)).toHaveLength(18);
  });

  it("refuses a global service with FAILED_PRECONDITION and a clear message", async () => {
    const l = leader();
    const g = service("agent", { global: true });
    await l.store.update((tx) => tx.services.create(g));
    const err = await rebalanceService(l.store, { serviceId: "agent" }, l.clock).catch((e: unknown) => e);
    expect(isShoalError(err) && err.code).toBe(ErrorCode.FailedPrecondition);
    expect((err as Error).message).toBe(
      "service agent is global: it runs one task on every node, there is nothing to rebalance",
    );
  });
});
