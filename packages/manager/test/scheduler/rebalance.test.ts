import { NodeAvailability, NodeState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { planRebalance, type RebalanceMove } from "../../src/scheduler/rebalance.js";
import { GiB, makeNode, runningTask, type TaskOptions } from "./fixtures.js";

/** `counts[node]` running tasks of `service` on each node, slots numbered in order. */
function spread(service: string, counts: Record<string, number>, o: TaskOptions = {}): Task[] {
  const out: Task[] = [];
  let slot = 1;
  for (const [node, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) out.push(runningTask(service, slot++, node, o));
  }
  return out;
}

/** Tasks per node once the moves are made. */
function after(tasks: readonly Task[], moves: readonly RebalanceMove[]): Record<string, number> {
  const to = new Map(moves.map((m) => [m.taskId, m.to]));
  const out: Record<string, number> = {};
  for (const t of tasks) {
    const node = to.get(t.id) ?? t.nodeId;
    out[node] = (out[node] ?? 0) + 1;
  }
  return out;
}

const three = [makeNode("a"), makeNode("b"), makeNode("c")];

describe("planRebalance", () => {
  it("moves 6 replicas on 2 nodes to 2/2/2 when a third node is ready: 2 moves, 1 from each", () => {
    const tasks = spread("web", { a: 3, b: 3 });
    const moves = planRebalance(three, tasks, "web");
    expect(moves).toHaveLength(2);
    expect(moves.map((m) => m.from).sort()).toEqual(["a", "b"]);
    expect(moves.every((m) => m.to === "c")).toBe(true);
    expect(after(tasks, moves)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("moves nothing when the spread is already right, even when it is uneven by a tie (7 on 3)", () => {
    expect(planRebalance(three, spread("web", { a: 2, b: 2, c: 2 }), "web")).toEqual([]);
    for (const counts of [
      { a: 3, b: 2, c: 2 },
      { a: 2, b: 3, c: 2 },
      { a: 2, b: 2, c: 3 },
    ]) {
      expect(planRebalance(three, spread("web", counts), "web")).toEqual([]);
    }
  });

  it("makes the fewest moves for an uneven count: 4/3/0 -> 3/2/2 (2 moves)", () => {
    const tasks = spread("web", { a: 4, b: 3 });
    const moves = planRebalance(three, tasks, "web");
    expect(moves).toHaveLength(2);
    expect(Object.values(after(tasks, moves)).sort()).toEqual([2, 2, 3]);
  });

  it("respects constraints: a node the service may not run on gets nothing", () => {
    const nodes = [
      makeNode("a", { labels: { zone: "x" } }),
      makeNode("b", { labels: { zone: "x" } }),
      makeNode("c", { labels: { zone: "y" } }),
      makeNode("d", { labels: { zone: "x" } }),
    ];
    const tasks = spread("web", { a: 3, b: 3 }, { constraints: ["node.labels.zone==x"] });
    const moves = planRebalance(nodes, tasks, "web");
    expect(moves.every((m) => m.to === "d")).toBe(true);
    expect(after(tasks, moves)).toEqual({ a: 2, b: 2, d: 2 });
  });

  it("moves tasks off a node whose labels no longer meet the constraints", () => {
    const nodes = [makeNode("a", { labels: { zone: "y" } }), makeNode("b", { labels: { zone: "x" } })];
    const tasks = spread("web", { a: 1, b: 1 }, { constraints: ["node.labels.zone==x"] });
    expect(planRebalance(nodes, tasks, "web")).toEqual([{ taskId: "web.1", from: "a", to: "b" }]);
  });

  it("respects max replicas per node and resources", () => {
    const tasks = spread("web", { a: 3, b: 3 }, { maxReplicasPerNode: 3 });
    expect(after(tasks, planRebalance(three, tasks, "web"))).toEqual({ a: 2, b: 2, c: 2 });
    // c has room for one task of 3 GiB only.
    const nodes = [makeNode("a"), makeNode("b"), makeNode("c", { memoryBytes: 4 * GiB })];
    const big = spread("web", { a: 2, b: 2 }, { memoryBytes: 3 * GiB });
    const moves = planRebalance(nodes, big, "web");
    expect(moves).toHaveLength(1);
    expect(moves[0]!.to).toBe("c");
  });

  it("follows placement preferences: balances racks first", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1" } }),
      makeNode("b", { labels: { rack: "r1" } }),
      makeNode("c", { labels: { rack: "r2" } }),
    ];
    const tasks = spread("web", { a: 2, b: 2 }, { spread: ["node.labels.rack"] });
    const moves = planRebalance(nodes, tasks, "web");
    expect(after(tasks, moves)).toEqual({ a: 1, b: 1, c: 2 });
  });

  it("leaves tasks on paused, draining-out or not-ready nodes, and sends none to them", () => {
    const nodes = [
      makeNode("a", { availability: NodeAvailability.PAUSE }),
      makeNode("b"),
      makeNode("c", { state: NodeState.DOWN }),
      makeNode("d", { availability: NodeAvailability.DRAIN }),
    ];
    expect(planRebalance(nodes, spread("web", { a: 4, b: 0 }), "web")).toEqual([]);
    expect(planRebalance(nodes, spread("web", { b: 4 }), "web")).toEqual([]);
  });

  it("counts only this service; other services' tasks only break ties", () => {
    const tasks = [...spread("web", { a: 2, b: 2, c: 2 }), ...spread("db", { a: 5 })];
    expect(planRebalance(three, tasks, "web")).toEqual([]);
    expect(planRebalance(three, tasks, "db")).toHaveLength(3);
  });
});
