import { TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { historyLimit, historyToKeep, planHistory, removable } from "../../../src/orchestrator/reaper/reconcile.js";
import { cluster, service, task } from "../fixtures.js";

describe("task reaper decisions", () => {
  it("history limit: the cluster's setting, 5 when unset or 0", () => {
    expect(historyLimit(undefined)).toBe(5);
    expect(historyLimit(cluster(0))).toBe(5);
    expect(historyLimit(cluster(2))).toBe(2);
  });

  it("keeps the 5 newest finished tasks of a slot, and every live task", () => {
    const svc = service("web");
    const finished = Array.from({ length: 8 }, (_, i) =>
      task(svc, { id: `f${i}`, slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: i * 10 }),
    );
    const live = task(svc, { id: "live", slot: 1, state: TaskState.RUNNING, created: 100 });
    const endedLive = task(svc, { id: "ended-live", slot: 1, state: TaskState.FAILED, created: 90 });
    const p = planHistory([live, endedLive, ...finished.slice().reverse()], 5);
    expect(p.ops.map((op) => (op.kind === "delete" ? op.id : "?"))).toEqual(["f0", "f1", "f2"]);
  });

  it("counts a task shut down before reaching a node as finished; a task still stopping is not", () => {
    const svc = service("web");
    const neverPlaced = task(svc, {
      id: "np",
      slot: 1,
      state: TaskState.PENDING,
      desired: TaskState.SHUTDOWN,
      created: 0,
    });
    const stopping = task(svc, {
      id: "st",
      slot: 1,
      state: TaskState.RUNNING,
      desired: TaskState.SHUTDOWN,
      created: 1,
    });
    const done = task(svc, { id: "dn", slot: 1, state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN, created: 2 });
    expect(planHistory([neverPlaced, stopping, done], 1).ops).toEqual([{ kind: "delete", id: "np" }]);
  });

  it("keeps max attempts + 1 finished tasks when that is more than the limit", () => {
    const svc = service("web", { restart: { maxAttempts: 7 } });
    expect(historyToKeep(5, [], svc)).toBe(8);
    expect(historyToKeep(5, [task(svc, { slot: 1 })], undefined)).toBe(8);
    expect(historyToKeep(10, [], svc)).toBe(10);
    expect(historyToKeep(5, [], service("plain"))).toBe(5);
  });

  it("a removed task goes once ended, at once if it never reached an agent, or if its node is gone", () => {
    const svc = service("web");
    const nodes = new Set(["n1"]);
    const exists = (id: string): boolean => nodes.has(id);
    const r = (o: Parameters<typeof task>[1]) => task(svc, { slot: 1, desired: TaskState.REMOVE, ...o });
    expect(removable(r({ nodeId: "n1", state: TaskState.RUNNING }), exists)).toBe(false);
    expect(removable(r({ nodeId: "n1", state: TaskState.SHUTDOWN }), exists)).toBe(true);
    expect(removable(r({ nodeId: "n1", state: TaskState.FAILED }), exists)).toBe(true);
    expect(removable(r({ nodeId: "", state: TaskState.NEW }), exists)).toBe(true);
    expect(removable(r({ nodeId: "n1", state: TaskState.PENDING }), exists)).toBe(true); // a global task not placed
    expect(removable(r({ nodeId: "gone", state: TaskState.RUNNING }), exists)).toBe(true);
    expect(
      removable(task(svc, { slot: 1, nodeId: "n1", state: TaskState.FAILED, desired: TaskState.SHUTDOWN }), exists),
    ).toBe(false);
  });
});
