import { NodeAvailability, NodeRole, NodeState, TaskState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { scheduleBatch } from "../../src/scheduler/pipeline.js";
import { GiB, applyAssignments, countPerNode, makeNode, makeTask, makeTasks, runningTask } from "./fixtures.js";

const three = [makeNode("a"), makeNode("b"), makeNode("c")];

describe("scheduleBatch: spread", () => {
  it("spreads 6 replicas on 3 nodes 2/2/2", () => {
    const r = scheduleBatch(three, [], makeTasks("web", 1, 6));
    expect(r.unplaced.size).toBe(0);
    expect(countPerNode(r.assignments)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("spreads a scale from 6 to 9 as 3/3/3", () => {
    const first = makeTasks("web", 1, 6);
    const r1 = scheduleBatch(three, [], first);
    const running = applyAssignments(first, r1.assignments);
    const r2 = scheduleBatch(three, running, makeTasks("web", 7, 9));
    expect(countPerNode(r2.assignments)).toEqual({ a: 1, b: 1, c: 1 });
  });

  it("fills the nodes with the fewest tasks of the service first, even if uneven", () => {
    const running = [runningTask("web", 1, "a"), runningTask("web", 2, "a"), runningTask("web", 3, "b")];
    const r = scheduleBatch(three, running, makeTasks("web", 4, 6));
    expect(countPerNode(r.assignments)).toEqual({ b: 1, c: 2 });
  });

  it("breaks ties between equally loaded nodes by the fewest tasks in all", () => {
    const running = [runningTask("db", 1, "a"), runningTask("db", 2, "b")];
    const r = scheduleBatch(three, running, [makeTask("web", 1)]);
    expect(r.assignments.get("web.1")).toBe("c");
  });

  it("does not count tasks that ended or are below ASSIGNED; counts tasks being shut down only for resources", () => {
    const tasks = [
      makeTask("web", 1, { nodeId: "a", state: TaskState.FAILED }),
      makeTask("web", 2, { nodeId: "a", state: TaskState.SHUTDOWN }),
      makeTask("web", 3, { nodeId: "b", state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN }),
    ];
    const r = scheduleBatch(three.slice(0, 2), tasks, makeTasks("web", 4, 5));
    expect(countPerNode(r.assignments)).toEqual({ a: 1, b: 1 });
  });

  it("is deterministic: same input, same placement, whatever the order of nodes and tasks", () => {
    const nodes = Array.from({ length: 20 }, (_, i) => makeNode(`n${i}`));
    const pending = [...makeTasks("web", 1, 7), ...makeTasks("api", 1, 5)];
    const a = scheduleBatch(nodes, [], pending);
    const b = scheduleBatch([...nodes].reverse(), [], [...pending].reverse());
    expect([...b.assignments].sort()).toEqual([...a.assignments].sort());
    expect(scheduleBatch(nodes, [], pending).assignments).toEqual(a.assignments);
  });

  it("shuffles ties from the task id: different services start on different nodes", () => {
    const nodes = Array.from({ length: 50 }, (_, i) => makeNode(`n${i}`));
    const firsts = new Set<string>();
    for (let s = 0; s < 10; s++)
      firsts.add(scheduleBatch(nodes, [], [makeTask(`svc${s}`, 1)]).assignments.get(`svc${s}.1`)!);
    expect(firsts.size).toBeGreaterThan(5);
  });

  it("places preassigned tasks (global services) on their node when it fits", () => {
    const pending = [
      makeTask("g", 0, { id: "g-a", nodeId: "a" }),
      makeTask("g", 0, { id: "g-b", nodeId: "b", memoryBytes: 16 * GiB }),
      makeTask("g", 0, { id: "g-x", nodeId: "x" }),
    ];
    const r = scheduleBatch(three, [], pending);
    expect(r.assignments).toEqual(new Map([["g-a", "a"]]));
    expect(r.unplaced.get("g-b")).toBe("no suitable node (insufficient memory on 1 node)");
    expect(r.unplaced.get("g-x")).toBe("no suitable node (node x not found)");
  });
});

describe("scheduleBatch: placement preferences", () => {
  it("balances across the values of a label first (2 racks of 1 and 2 nodes)", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1" } }),
      makeNode("b", { labels: { rack: "r2" } }),
      makeNode("c", { labels: { rack: "r2" } }),
    ];
    const r = scheduleBatch(nodes, [], makeTasks("web", 1, 6, { spread: ["node.labels.rack"] }));
    const perNode = countPerNode(r.assignments);
    expect(perNode["a"]).toBe(3);
    expect([perNode["b"], perNode["c"]].sort()).toEqual([1, 2]);
  });

  it("puts nodes without the label in their own group", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1" } }),
      makeNode("b", { labels: { rack: "r1" } }),
      makeNode("c"),
      makeNode("d", { labels: { rack: "r2" } }),
    ];
    const r = scheduleBatch(nodes, [], makeTasks("web", 1, 6, { spread: ["node.labels.rack"] }));
    const perNode = countPerNode(r.assignments);
    expect(perNode["c"]).toBe(2);
    expect(perNode["d"]).toBe(2);
    expect(perNode).toMatchObject({ a: 1, b: 1 });
  });

  it("counts tasks already running in a branch, on any node of it", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1" } }),
      makeNode("b", { labels: { rack: "r2" } }),
      makeNode("c", { labels: { rack: "r2" }, availability: NodeAvailability.PAUSE }),
    ];
    const running = [runningTask("web", 1, "c"), runningTask("web", 2, "c")];
    const r = scheduleBatch(nodes, running, makeTasks("web", 3, 4, { spread: ["node.labels.rack"] }));
    expect(countPerNode(r.assignments)).toEqual({ a: 2 });
  });

  // SwarmKit's scheduler: a descriptor that names no node or engine label adds no level.
  it("puts every node in one group for a descriptor that names no label", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1", "com.example.label": "x" } }),
      makeNode("b", { labels: { rack: "r2" } }),
      makeNode("c", { labels: { rack: "r2" } }),
    ];
    const plain = scheduleBatch(nodes, [], makeTasks("web", 1, 6, { spread: ["com.example.label"] }));
    expect(plain.unplaced.size).toBe(0);
    expect(countPerNode(plain.assignments)).toEqual({ a: 2, b: 2, c: 2 });
    const mixed = scheduleBatch(
      nodes,
      [],
      makeTasks("web", 1, 6, { spread: ["com.example.label", "node.labels.rack", "node.hostname"] }),
    );
    expect(countPerNode(mixed.assignments)).toEqual(
      countPerNode(scheduleBatch(nodes, [], makeTasks("web", 1, 6, { spread: ["node.labels.rack"] })).assignments),
    );
  });

  it("applies several preferences hierarchically", () => {
    const nodes = [
      makeNode("eu-1a", { labels: { dc: "eu", rack: "1" } }),
      makeNode("eu-1b", { labels: { dc: "eu", rack: "1" } }),
      makeNode("eu-2a", { labels: { dc: "eu", rack: "2" } }),
      makeNode("us-1a", { labels: { dc: "us", rack: "1" } }),
    ];
    const r = scheduleBatch(nodes, [], makeTasks("web", 1, 8, { spread: ["node.labels.dc", "node.labels.rack"] }));
    expect(countPerNode(r.assignments)).toEqual({ "us-1a": 4, "eu-2a": 2, "eu-1a": 1, "eu-1b": 1 });
  });

  it("overflows to other branches when one is full", () => {
    const nodes = [
      makeNode("a", { labels: { rack: "r1" }, memoryBytes: GiB }),
      makeNode("b", { labels: { rack: "r2" } }),
    ];
    const r = scheduleBatch(nodes, [], makeTasks("web", 1, 4, { spread: ["node.labels.rack"], memoryBytes: GiB }));
    expect(r.unplaced.size).toBe(0);
    expect(countPerNode(r.assignments)).toEqual({ a: 1, b: 3 });
  });
});

describe("scheduleBatch: filters and reasons", () => {
  it("max replicas per node leaves the rest pending with the reason", () => {
    const r = scheduleBatch(three, [], makeTasks("web", 1, 8, { maxReplicasPerNode: 2 }));
    expect(countPerNode(r.assignments)).toEqual({ a: 2, b: 2, c: 2 });
    expect(r.unplaced.size).toBe(2);
    for (const reason of r.unplaced.values()) {
      expect(reason).toBe("no suitable node (max replicas per node reached on 3 nodes)");
    }
  });

  it("explains insufficient memory", () => {
    const nodes = [makeNode("a", { memoryBytes: GiB }), makeNode("b", { memoryBytes: 3 * GiB }), makeNode("c")];
    const r = scheduleBatch(nodes, [], [makeTask("big", 1, { memoryBytes: 4 * GiB })]);
    expect(r.assignments.get("big.1")).toBe("c");
    const r2 = scheduleBatch(nodes, [], makeTasks("big", 1, 3, { memoryBytes: 4 * GiB }));
    expect(countPerNode(r2.assignments)).toEqual({ c: 2 });
    expect(r2.unplaced.get("big.3")).toBe("no suitable node (insufficient memory on 3 nodes)");
  });

  it("counts every rejected node once, with the first filter that refused it", () => {
    const nodes = [
      makeNode("down", { state: NodeState.DOWN, memoryBytes: GiB }),
      makeNode("small-1", { memoryBytes: GiB }),
      makeNode("small-2", { memoryBytes: GiB }),
      makeNode("mgr", { role: NodeRole.MANAGER }),
    ];
    const r = scheduleBatch(
      nodes,
      [],
      [makeTask("web", 1, { memoryBytes: 2 * GiB, constraints: ["node.role==worker"] })],
    );
    expect(r.unplaced.get("web.1")).toBe(
      "no suitable node (node not ready on 1 node, scheduling constraints not satisfied on 1 node, insufficient memory on 2 nodes)",
    );
  });

  it("keeps reservations of held tasks, and frees them when tasks end", () => {
    const nodes = [makeNode("a", { memoryBytes: 4 * GiB })];
    const held = [runningTask("db", 1, "a", { memoryBytes: 3 * GiB })];
    const pending = [makeTask("web", 1, { memoryBytes: 2 * GiB })];
    expect(scheduleBatch(nodes, held, pending).unplaced.size).toBe(1);
    held[0]!.status!.state = TaskState.COMPLETE;
    expect(scheduleBatch(nodes, held, pending).assignments.get("web.1")).toBe("a");
  });

  it("does not publish the same host port twice on a node", () => {
    const held = [runningTask("other", 1, "a", { hostPorts: [8080] })];
    const r = scheduleBatch(three, held, makeTasks("web", 1, 3, { hostPorts: [8080] }));
    expect(countPerNode(r.assignments)).toEqual({ b: 1, c: 1 });
    expect(r.unplaced.get("web.3")).toBe("no suitable node (host-mode published port already in use on 3 nodes)");
  });

  it("gives drained, paused and down nodes nothing", () => {
    const nodes = [
      makeNode("drained", { availability: NodeAvailability.DRAIN }),
      makeNode("paused", { availability: NodeAvailability.PAUSE }),
      makeNode("down", { state: NodeState.DOWN }),
      makeNode("unknown", { state: NodeState.UNKNOWN }),
      makeNode("ok"),
    ];
    const r = scheduleBatch(nodes, [], makeTasks("web", 1, 5));
    expect(countPerNode(r.assignments)).toEqual({ ok: 5 });
    const r2 = scheduleBatch(nodes.slice(0, 4), [], [makeTask("web", 1)]);
    expect(r2.unplaced.get("web.1")).toBe(
      "no suitable node (node not ready on 2 nodes, node paused or drained on 2 nodes)",
    );
  });

  it("says so when there is no node at all", () => {
    expect(scheduleBatch([], [], [makeTask("web", 1)]).unplaced.get("web.1")).toBe(
      "no suitable node (no nodes in the cluster)",
    );
  });

  it("leaves a task with a malformed constraint unplaced with the parse error", () => {
    const r = scheduleBatch(three, [], [makeTask("web", 1, { constraints: ["node.colour==red"] })]);
    expect(r.unplaced.get("web.1")).toMatch(/^invalid placement: .*unknown key "node\.colour"/);
  });

  it("places groups with different specs of one batch independently", () => {
    const pending: Task[] = [
      ...makeTasks("web", 1, 2, { constraints: ["node.hostname==a"] }),
      ...makeTasks("web", 3, 4, { constraints: ["node.hostname!=a"] }),
    ];
    const r = scheduleBatch(three, [], pending);
    expect(r.assignments.get("web.1")).toBe("a");
    expect(r.assignments.get("web.2")).toBe("a");
    expect(new Set([r.assignments.get("web.3"), r.assignments.get("web.4")])).toEqual(new Set(["b", "c"]));
  });

  it("pushes back a node where the service failed often in the last minutes", () => {
    const now = 1_760_000_000_000;
    const failures = Array.from({ length: 5 }, (_, i) =>
      makeTask("web", 1, { id: `f${i}`, nodeId: "a", state: TaskState.FAILED, timestamp: new Date(now - 1000) }),
    );
    const nodes = three.slice(0, 2);
    expect(scheduleBatch(nodes, failures, makeTasks("web", 1, 3), now).assignments).toEqual(
      new Map([
        ["web.1", "b"],
        ["web.2", "b"],
        ["web.3", "b"],
      ]),
    );
    // Long ago, or without `now`: no effect.
    expect(countPerNode(scheduleBatch(nodes, failures, makeTasks("web", 1, 4), now + 10 * 60_000).assignments)).toEqual(
      {
        a: 2,
        b: 2,
      },
    );
    expect(countPerNode(scheduleBatch(nodes, failures, makeTasks("web", 1, 4)).assignments)).toEqual({ a: 2, b: 2 });
  });
});
