// The placement pass with generic resources (GPUs) and platforms.
import { TaskState, discreteResource } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { scheduleBatch } from "../../src/scheduler/pipeline.js";
import { planRebalance } from "../../src/scheduler/rebalance.js";
import { makeNode, makeTasks } from "./fixtures.js";
import { genericNode, genericTask, gpuUnits } from "./generic-fixtures.js";

const gpuTasks = (service: string, from: number, to: number, count = 1) =>
  Array.from({ length: to - from + 1 }, (_, i) => genericTask(service, from + i, { gpu: count }));

describe("scheduleBatch: generic resources", () => {
  it("gives each task its own named units, and leaves the task that fits nowhere pending", () => {
    const nodes = [genericNode("a", gpuUnits("a0")), genericNode("b", gpuUnits("b0")), makeNode("c")];
    const r = scheduleBatch(nodes, [], gpuTasks("ml", 1, 3));
    expect(r.assignments.size).toBe(2);
    const given = [...r.assignments.keys()].map((id) => r.generic.get(id));
    expect(given).toEqual(expect.arrayContaining([gpuUnits("a0"), gpuUnits("b0")]));
    expect([...r.unplaced.values()]).toEqual(["no suitable node (insufficient generic resource gpu on 3 nodes)"]);
  });

  it("never gives a unit that a task on the node holds", () => {
    const nodes = [genericNode("a", gpuUnits("a0", "a1", "a2"))];
    const held = [
      genericTask("old", 1, { gpu: 1 }, { nodeId: "a", state: TaskState.RUNNING, assigned: gpuUnits("a1") }),
    ];
    const r = scheduleBatch(nodes, held, gpuTasks("ml", 1, 3));
    expect([...r.generic.values()]).toEqual(expect.arrayContaining([gpuUnits("a0"), gpuUnits("a2")]));
    expect(r.generic.size).toBe(2);
    expect(r.unplaced.size).toBe(1);
    // An ended task gives its unit back.
    const ended = [{ ...held[0]!, status: { ...held[0]!.status!, state: TaskState.COMPLETE } }];
    expect(scheduleBatch(nodes, ended, gpuTasks("ml", 1, 3)).unplaced.size).toBe(0);
  });

  it("gives several units to a task that asks for several, and counts discrete kinds", () => {
    const nodes = [genericNode("a", [...gpuUnits("a0", "a1", "a2"), discreteResource("ssd", 3)])];
    const r = scheduleBatch(
      nodes,
      [],
      [genericTask("ml", 1, { gpu: 2, ssd: 2 }), genericTask("ml", 2, { gpu: 2, ssd: 2 })],
    );
    expect(r.generic.get("ml.1")).toEqual([...gpuUnits("a0", "a1"), discreteResource("ssd", 2)]);
    expect(r.unplaced.get("ml.2")).toBe("no suitable node (insufficient generic resources gpu, ssd on 1 node)");
  });

  it("checks a preassigned task against its node, and gives it units there", () => {
    const nodes = [genericNode("a", gpuUnits("a0"))];
    const r = scheduleBatch(
      nodes,
      [],
      [genericTask("g", 0, { gpu: 1 }, { nodeId: "a" }), genericTask("h", 0, { gpu: 1 }, { nodeId: "a" })],
    );
    expect(r.generic.get("g.0")).toEqual(gpuUnits("a0"));
    expect(r.unplaced.get("h.0")).toBe("no suitable node (insufficient generic resource gpu on 1 node)");
  });

  it("plans a rebalance move only to a node with a free unit", () => {
    const nodes = [genericNode("a", gpuUnits("a0", "a1")), genericNode("b", gpuUnits("b0")), makeNode("c")];
    const held = [1, 2].map((slot) =>
      genericTask(
        "ml",
        slot,
        { gpu: 1 },
        { nodeId: "a", state: TaskState.RUNNING, assigned: gpuUnits(`a${slot - 1}`) },
      ),
    );
    const moves = planRebalance(nodes, held, "ml");
    expect(moves).toEqual([{ taskId: "ml.2", from: "a", to: "b" }]);
  });
});

describe("scheduleBatch: platforms", () => {
  it("places tasks only on nodes of a listed platform, and says why the others are out", () => {
    const nodes = [makeNode("x86", { arch: "x86_64" }), makeNode("arm", { arch: "aarch64" })];
    const arm = [1, 2].map((slot) =>
      genericTask("arm", slot, {}, { platforms: [{ os: "linux", architecture: "arm64" }] }),
    );
    const r = scheduleBatch(nodes, [], arm);
    expect([...r.assignments.values()]).toEqual(["arm", "arm"]);
    const none = genericTask("ppc", 1, {}, { platforms: [{ os: "linux", architecture: "ppc64le" }] });
    expect(scheduleBatch(nodes, [], [none]).unplaced.get("ppc.1")).toBe(
      "no suitable node (unsupported platform on 2 nodes)",
    );
    expect(scheduleBatch(nodes, [], makeTasks("any", 1, 2)).assignments.size).toBe(2);
  });
});
