import {
  NodeAvailability,
  NodeState,
  RestartCondition,
  TaskState,
  type Node,
  type Service,
  type Task,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import type { Op } from "../../../src/orchestrator/plan.js";
import { planRestarts, restartCandidates, type RestartDecision } from "../../../src/orchestrator/restart/reconcile.js";
import { matchEveryNode, type NodeMatcher } from "../../../src/orchestrator/node-checks.js";
import { slotOf } from "../../../src/orchestrator/task-states.js";
import { idSource, node, service, task } from "../fixtures.js";

interface Case {
  services: Service[];
  nodes?: Node[];
  tasks: Task[];
  now: number;
  due?: Map<string, number>;
  nodeMatches?: NodeMatcher;
}

/** Decides for the slot of the tasks given (all in one slot). */
function decide(c: Case): RestartDecision {
  const services = new Map(c.services.map((s) => [s.id, s]));
  const nodes = new Map((c.nodes ?? []).map((n) => [n.id, n]));
  const ref = slotOf(c.tasks[0]!)!;
  return planRestarts(
    {
      service: (id) => services.get(id),
      node: (id) => nodes.get(id),
      nodeMatches: c.nodeMatches ?? matchEveryNode,
      now: c.now,
      due: c.due ?? new Map(),
      newId: idSource(),
    },
    [{ ref, tasks: c.tasks }],
  );
}

function ops(d: RestartDecision): string[] {
  return d.plan.ops.map((op: Op) =>
    op.kind === "create"
      ? `create ${op.task.id} slot=${op.task.slot} node=${op.task.nodeId}`
      : op.kind === "raise"
        ? `raise ${op.id} ${TaskState[op.desiredState]}`
        : `delete ${op.id}`,
  );
}

const up = node("n1");
const down = node("n1", { state: NodeState.DOWN });

describe("planRestarts: replicated slots", () => {
  it("a task that failed is shut down at once and its successor waits for the delay (5 s by default)", () => {
    const svc = service("web");
    const failed = task(svc, { id: "a", slot: 2, nodeId: "n1", state: TaskState.FAILED, updated: 10_000 });
    const d = decide({ services: [svc], nodes: [up], tasks: [failed], now: 10_000 });
    expect(ops(d)).toEqual(["raise a SHUTDOWN"]);
    expect([...d.wake.values()]).toEqual([{ ref: { serviceId: svc.id, slot: 2 }, due: 15_000 }]);
  });

  it("the delay runs from the end of the task, and never beyond now + delay", () => {
    const svc = service("web", { restart: { delayMs: 2_000 } });
    const failed = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED, updated: 9_000 });
    expect([...decide({ services: [svc], nodes: [up], tasks: [failed], now: 10_000 }).wake.values()][0]?.due).toBe(
      11_000,
    );
    const future = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED, updated: 99_000 });
    expect([...decide({ services: [svc], nodes: [up], tasks: [future], now: 10_000 }).wake.values()][0]?.due).toBe(
      12_000,
    );
  });

  it("a waiting slot gets its successor once the delay is over, in the same slot", () => {
    const svc = service("web");
    const old = task(svc, {
      id: "a",
      slot: 2,
      nodeId: "n1",
      state: TaskState.FAILED,
      desired: TaskState.SHUTDOWN,
      updated: 10_000,
    });
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [old], now: 14_999 }))).toEqual([]);
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [old], now: 15_000 }))).toEqual([
      "create new-1 slot=2 node=",
    ]);
    // A due time already scheduled wins over the one read from the store.
    const due = new Map([[`${svc.id}/2`, 12_000]]);
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [old], now: 12_000, due }))).toEqual([
      "create new-1 slot=2 node=",
    ]);
  });

  it("a delay of zero restarts at once", () => {
    const svc = service("web", { restart: { delayMs: 0 } });
    const failed = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED, updated: 5 });
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [failed], now: 5 }))).toEqual([
      "raise a SHUTDOWN",
      "create new-1 slot=1 node=",
    ]);
  });

  it("condition any restarts a completed task; on-failure does not; none restarts nothing", () => {
    const cases: [RestartCondition, TaskState, boolean][] = [
      [RestartCondition.ANY, TaskState.COMPLETE, true],
      [RestartCondition.ON_FAILURE, TaskState.COMPLETE, false],
      [RestartCondition.ON_FAILURE, TaskState.FAILED, true],
      [RestartCondition.NONE, TaskState.FAILED, false],
    ];
    for (const [condition, state, restarts] of cases) {
      const svc = service("web", { restart: { condition } });
      const ended = task(svc, { id: "a", slot: 1, nodeId: "n1", state, updated: 0 });
      const d = decide({ services: [svc], nodes: [up], tasks: [ended], now: 0 });
      expect(ops(d)).toEqual(["raise a SHUTDOWN"]);
      expect(d.wake.size).toBe(restarts ? 1 : 0);
      // Once shut down, the slot is done (no successor ever) or waiting (a successor when due).
      const shut = { ...ended, desiredState: TaskState.SHUTDOWN };
      expect(ops(decide({ services: [svc], nodes: [up], tasks: [shut], now: 60_000 })).length).toBe(restarts ? 1 : 0);
    }
  });

  it("max attempts: after the last attempt the slot is left with its history", () => {
    const svc = service("web", { restart: { maxAttempts: 1 } });
    const t0 = task(svc, {
      id: "a",
      slot: 1,
      nodeId: "n1",
      state: TaskState.FAILED,
      desired: TaskState.SHUTDOWN,
      created: 0,
    });
    const t1 = task(svc, { id: "b", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: 6_000, updated: 7_000 });
    const d = decide({ services: [svc], nodes: [up], tasks: [t0, t1], now: 7_000 });
    expect(ops(d)).toEqual(["raise b SHUTDOWN"]);
    expect(d.wake.size).toBe(0);
    const t1shut = { ...t1, desiredState: TaskState.SHUTDOWN };
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [t0, t1shut], now: 99_000 }))).toEqual([]);
  });

  it("max attempts within a window: attempts older than the window no longer count", () => {
    const svc = service("web", { restart: { maxAttempts: 1, windowMs: 10_000 } });
    const t0 = task(svc, { id: "a", slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 0 });
    const t1 = task(svc, { id: "b", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: 5_000, updated: 30_000 });
    const d = decide({ services: [svc], nodes: [up], tasks: [t0, t1], now: 30_000 });
    expect(d.wake.size).toBe(1);
  });

  it("a running task whose node went down is replaced at once, without the delay, whatever its policy", () => {
    for (const condition of [RestartCondition.ANY, RestartCondition.NONE]) {
      const svc = service("web", { restart: { condition } });
      const t = task(svc, { id: "a", slot: 3, nodeId: "n1", state: TaskState.RUNNING });
      const d = decide({ services: [svc], nodes: [down], tasks: [t], now: 1_000 });
      expect(ops(d)).toEqual(["raise a SHUTDOWN", "create new-1 slot=3 node="]);
      expect(d.wake.size).toBe(0);
    }
  });

  it("a task on a drained node, or on a node gone from the store, moves at once too", () => {
    const svc = service("web");
    const t = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.STARTING });
    const drained = node("n1", { availability: NodeAvailability.DRAIN });
    expect(ops(decide({ services: [svc], nodes: [drained], tasks: [t], now: 0 }))).toEqual([
      "raise a SHUTDOWN",
      "create new-1 slot=1 node=",
    ]);
    expect(ops(decide({ services: [svc], nodes: [], tasks: [t], now: 0 }))).toEqual([
      "raise a SHUTDOWN",
      "create new-1 slot=1 node=",
    ]);
  });

  it("a task that failed on a node now down restarts at once if its policy allows", () => {
    const svc = service("web");
    const t = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED, updated: 0 });
    expect(ops(decide({ services: [svc], nodes: [down], tasks: [t], now: 0 }))).toEqual([
      "raise a SHUTDOWN",
      "create new-1 slot=1 node=",
    ]);
    const none = service("web", { restart: { condition: RestartCondition.NONE } });
    const u = task(none, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED });
    expect(ops(decide({ services: [none], nodes: [down], tasks: [u], now: 0 }))).toEqual(["raise a SHUTDOWN"]);
  });

  it("leaves tasks on paused, unknown and disconnected nodes alone, and tasks not placed yet", () => {
    const svc = service("web");
    for (const n of [
      node("n1", { availability: NodeAvailability.PAUSE }),
      node("n1", { state: NodeState.UNKNOWN }),
      node("n1", { state: NodeState.DISCONNECTED }),
    ]) {
      const t = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.RUNNING });
      expect(ops(decide({ services: [svc], nodes: [n], tasks: [t], now: 0 }))).toEqual([]);
    }
    const pending = task(svc, { id: "a", slot: 1, state: TaskState.PENDING });
    expect(ops(decide({ services: [svc], nodes: [], tasks: [pending], now: 0 }))).toEqual([]);
  });

  it("never makes a second runnable task: an ended task beside a runnable one is only shut down", () => {
    const svc = service("web", { restart: { delayMs: 0 } });
    const ended = task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED, created: 0 });
    const running = task(svc, { id: "b", slot: 1, nodeId: "n1", state: TaskState.RUNNING, created: 1 });
    const d = decide({ services: [svc], nodes: [up], tasks: [ended, running], now: 0 });
    expect(ops(d)).toEqual(["raise a SHUTDOWN"]);
    expect(d.wake.size).toBe(0);
  });

  it("does nothing for a slot whose tasks are removed, or whose service is gone", () => {
    const svc = service("web");
    const removed = task(svc, { id: "a", slot: 1, state: TaskState.FAILED, desired: TaskState.REMOVE });
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [removed], now: 99_000 }))).toEqual([]);
    const failed = task(svc, { id: "b", slot: 1, state: TaskState.FAILED });
    expect(ops(decide({ services: [], nodes: [up], tasks: [failed], now: 99_000 }))).toEqual([]);
  });
});

describe("planRestarts: global slots", () => {
  it("restarts a global task on its own node after the delay", () => {
    const svc = service("agent", { global: true });
    const failed = task(svc, { id: "a", nodeId: "n1", state: TaskState.FAILED, updated: 0 });
    const d = decide({ services: [svc], nodes: [up], tasks: [failed], now: 0 });
    expect(ops(d)).toEqual(["raise a SHUTDOWN"]);
    expect([...d.wake.values()]).toEqual([{ ref: { serviceId: svc.id, nodeId: "n1" }, due: 5_000 }]);
    const shut = { ...failed, desiredState: TaskState.SHUTDOWN };
    expect(ops(decide({ services: [svc], nodes: [up], tasks: [shut], now: 5_000 }))).toEqual([
      "create new-1 slot=0 node=n1",
    ]);
  });

  it("leaves a global task on a down node alone, and restarts none on a node that takes no new task", () => {
    const svc = service("agent", { global: true });
    const running = task(svc, { id: "a", nodeId: "n1", state: TaskState.RUNNING });
    expect(ops(decide({ services: [svc], nodes: [down], tasks: [running], now: 0 }))).toEqual([]);
    const shut = task(svc, { id: "a", nodeId: "n1", state: TaskState.FAILED, desired: TaskState.SHUTDOWN });
    for (const n of [down, node("n1", { availability: NodeAvailability.PAUSE })]) {
      const d = decide({ services: [svc], nodes: [n], tasks: [shut], now: 60_000 });
      expect(ops(d)).toEqual([]);
      expect(d.wake.size).toBe(0); // a node event brings the slot back
    }
    const d = decide({ services: [svc], nodes: [up], tasks: [shut], now: 60_000, nodeMatches: () => false });
    expect(ops(d)).toEqual([]);
  });
});

describe("restartCandidates", () => {
  it("picks the slots with a task leaving or only history, and no healthy slot", () => {
    const svc = service("web", { replicas: 6 });
    const agent = service("agent", { global: true });
    const tasks = [
      task(svc, { id: "healthy", slot: 1, nodeId: "n1" }),
      task(svc, { id: "ended", slot: 2, nodeId: "n1", state: TaskState.FAILED }),
      task(svc, { id: "on-lost", slot: 3, nodeId: "gone" }),
      task(svc, { id: "old", slot: 4, nodeId: "n1", state: TaskState.SHUTDOWN, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "new", slot: 4, nodeId: "n1" }), // history beside a healthy task: nothing to do
      task(svc, { id: "waiting", slot: 5, nodeId: "n1", state: TaskState.FAILED, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "removed", slot: 6, nodeId: "n1", state: TaskState.FAILED, desired: TaskState.REMOVE }),
      task(agent, { id: "global-ok", nodeId: "n1" }),
      task(agent, { id: "global-lost", nodeId: "gone" }), // a global task stays with its node
      task(agent, { id: "global-ended", nodeId: "n2", state: TaskState.FAILED }),
    ];
    const picked = restartCandidates(tasks, (nodeId) => nodeId === "gone");
    expect([...picked.values()].map((ref) => ref.slot ?? ref.nodeId).sort()).toEqual([2, 3, 5, "n2"]);
  });

  it("picks every slot planRestarts would act on", () => {
    const svc = service("web", { replicas: 4, restart: { delayMs: 0 } });
    const tasks = [
      task(svc, { id: "a", slot: 1, nodeId: "n1", state: TaskState.FAILED }),
      task(svc, { id: "b", slot: 2, nodeId: "n1", state: TaskState.FAILED, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "c", slot: 3, nodeId: "n1" }),
      task(svc, { id: "d", slot: 4, nodeId: "n1", state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      task(svc, { id: "e", slot: 4, nodeId: "n1" }),
    ];
    const input = {
      service: () => svc,
      node: (id: string) => node(id),
      nodeMatches: matchEveryNode,
      now: 0,
      due: new Map<string, number>(),
      newId: idSource(),
    };
    const bySlot = [1, 2, 3, 4].map((slot) => ({
      ref: slotOf(tasks.find((t) => t.slot === slot)!)!,
      tasks: tasks.filter((t) => t.slot === slot),
    }));
    const acting = bySlot.filter((s) => planRestarts(input, [s]).plan.size > 0).map((s) => s.ref.slot);
    const picked = [...restartCandidates(tasks, () => false).values()].map((ref) => ref.slot);
    expect(acting).toEqual([1, 2]);
    expect(picked.sort()).toEqual(acting);
  });
});
