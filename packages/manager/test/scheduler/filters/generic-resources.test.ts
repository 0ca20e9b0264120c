import { describe, expect, it } from "vitest";
import { GenericResourceFilter } from "../../../src/scheduler/filters/generic-resources.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { taskUsage } from "../../../src/scheduler/task-rules.js";
import { makeTask } from "../fixtures.js";
import { genericNode, genericTask, gpuUnits } from "../generic-fixtures.js";

describe("GenericResourceFilter", () => {
  it("applies to tasks that reserve generic resources", () => {
    const f = new GenericResourceFilter();
    expect(f.setTask(makeTask("web", 1))).toBe(false);
    expect(f.setTask(genericTask("web", 1, { gpu: 1 }))).toBe(true);
  });

  it("lets through a node with enough free units of the kind", () => {
    const f = new GenericResourceFilter();
    f.setTask(genericTask("web", 1, { gpu: 2 }));
    const info = new NodeInfo("a", genericNode("a", gpuUnits("g0", "g1")));
    expect(f.check(info)).toBe(true);
    info.addTask("other.1", taskUsage(genericTask("other", 1, { gpu: 1 }, { assigned: gpuUnits("g1") })), true);
    expect(f.check(info)).toBe(false);
    expect(f.check(new NodeInfo("b", genericNode("b", [])))).toBe(false);
    expect(f.explain(2)).toBe("insufficient generic resource gpu on 2 nodes");
    f.setTask(genericTask("web", 1, { gpu: 1, fpga: 1 }));
    expect(f.explain(1)).toBe("insufficient generic resources gpu, fpga on 1 node");
  });
});
