import { NodeAvailability, NodeState, TaskState, type Node, type Service, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { planGlobal } from "../../../src/orchestrator/global/reconcile.js";
import type { NodeMatcher } from "../../../src/orchestrator/node-checks.js";
import type { Plan } from "../../../src/orchestrator/plan.js";
import { idSource, node, service, task } from "../fixtures.js";

function plan(svc: Service | undefined, nodes: (Node | string)[], tasks: Task[], nodeMatches?: NodeMatcher): Plan {
  return planGlobal({
    service: svc,
    nodes: nodes.map((n) => (typeof n === "string" ? ([n, undefined] as const) : ([n.id, n] as const))),
    tasks,
    nodeMatches: nodeMatches ?? (() => true),
    now: 0,
    newId: idSource(),
  });
}

function summary(p: Plan): string[] {
  return p.ops.map((op) =>
    op.kind === "create"
      ? `create ${op.task.nodeId}`
      : op.kind === "raise"
        ? `${TaskState[op.desiredState]} ${op.id}`
        : `delete ${op.id}`,
  );
}

const svc = service("agent", { global: true });

describe("planGlobal", () => {
  it("starts one task on each node that accepts new tasks, naming its node", () => {
    const p = plan(svc, [node("a"), node("b"), node("c", { state: NodeState.UNKNOWN })], []);
    expect(summary(p)).toEqual(["create a", "create b", "create c"]);
    const first = p.ops[0];
    const t = first?.kind === "create" ? first.task : undefined;
    expect(t).toMatchObject({
      slot: 0,
      nodeId: "a",
      status: { state: TaskState.NEW },
      desiredState: TaskState.RUNNING,
    });
  });

  it("places nothing on down, paused or drained nodes", () => {
    const nodes = [
      node("down", { state: NodeState.DOWN }),
      node("paused", { availability: NodeAvailability.PAUSE }),
      node("drained", { availability: NodeAvailability.DRAIN }),
    ];
    expect(summary(plan(svc, nodes, []))).toEqual([]);
  });

  it("follows a node that joins: only that node gets a task", () => {
    const tasks = [task(svc, { id: "ta", nodeId: "a" })];
    expect(summary(plan(svc, [node("a"), node("b")], tasks))).toEqual(["create b"]);
  });

  it("removes the tasks of a drained node, history included; a paused or down node keeps its task", () => {
    const tasks = [
      task(svc, { id: "d1", nodeId: "drained", state: TaskState.RUNNING }),
      task(svc, { id: "d0", nodeId: "drained", state: TaskState.FAILED, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "p1", nodeId: "paused" }),
      task(svc, { id: "x1", nodeId: "down" }),
    ];
    const nodes = [
      node("drained", { availability: NodeAvailability.DRAIN }),
      node("paused", { availability: NodeAvailability.PAUSE }),
      node("down", { state: NodeState.DOWN }),
    ];
    expect(summary(plan(svc, nodes, tasks)).sort()).toEqual(["REMOVE d0", "REMOVE d1"]);
  });

  it("removes the task of a node gone from the store", () => {
    expect(summary(plan(svc, ["gone"], [task(svc, { id: "g", nodeId: "gone" })]))).toEqual(["REMOVE g"]);
  });

  it("checks placement constraints: no task on a node that does not match, and removes it if it stops matching", () => {
    const matches: NodeMatcher = (n) => n.spec?.annotations?.labels["role"] === "edge";
    const nodes = [node("a", { labels: { role: "edge" } }), node("b", { labels: { role: "db" } })];
    expect(summary(plan(svc, nodes, [], matches))).toEqual(["create a"]);
    const tasks = [task(svc, { id: "tb", nodeId: "b" })];
    expect(summary(plan(svc, nodes, tasks, matches))).toEqual(["create a", "REMOVE tb"]);
  });

  it("leaves a node whose task ended to the restart supervisor", () => {
    const tasks = [task(svc, { id: "t", nodeId: "a", state: TaskState.FAILED, desired: TaskState.SHUTDOWN })];
    expect(summary(plan(svc, [node("a")], tasks))).toEqual([]);
  });

  it("a node whose tasks are all removed gets a new task when it takes tasks again", () => {
    const tasks = [task(svc, { id: "old", nodeId: "a", state: TaskState.RUNNING, desired: TaskState.REMOVE })];
    expect(summary(plan(svc, [node("a")], tasks))).toEqual(["create a"]);
  });

  it("keeps one runnable task per node", () => {
    const tasks = [
      task(svc, { id: "r", nodeId: "a", state: TaskState.RUNNING, created: 0 }),
      task(svc, { id: "n", nodeId: "a", state: TaskState.NEW, created: 5 }),
    ];
    expect(summary(plan(svc, [node("a")], tasks))).toEqual(["SHUTDOWN n"]);
  });

  it("removes the global tasks of a service that is gone or became replicated", () => {
    const tasks = [task(svc, { id: "g", nodeId: "a" }), task(svc, { id: "r", slot: 1 })];
    expect(summary(plan(undefined, [node("a")], tasks))).toEqual(["REMOVE g"]);
    expect(summary(plan(service("agent", { replicas: 1 }), [node("a")], tasks))).toEqual(["REMOVE g"]);
  });
});
