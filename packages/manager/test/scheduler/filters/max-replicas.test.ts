import { describe, expect, it } from "vitest";
import { MaxReplicasFilter } from "../../../src/scheduler/filters/max-replicas.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { taskUsage } from "../../../src/scheduler/task-rules.js";
import { makeNode, makeTask } from "../fixtures.js";

describe("MaxReplicasFilter", () => {
  it("does not apply when the limit is 0 (unlimited)", () => {
    expect(new MaxReplicasFilter().setTask(makeTask("s", 1))).toBe(false);
  });

  it("counts the active tasks of the same service only", () => {
    const info = new NodeInfo("a", makeNode("a"));
    const f = new MaxReplicasFilter();
    expect(f.setTask(makeTask("web", 3, { maxReplicasPerNode: 2 }))).toBe(true);
    info.addTask("web.1", taskUsage(makeTask("web", 1)), true);
    info.addTask("db.1", taskUsage(makeTask("db", 1)), true);
    info.addTask("web.0", taskUsage(makeTask("web", 0)), false); // being shut down
    expect(f.check(info)).toBe(true);
    info.addTask("web.2", taskUsage(makeTask("web", 2)), true);
    expect(f.check(info)).toBe(false);
  });

  it("explains", () => {
    expect(new MaxReplicasFilter().explain(3)).toBe("max replicas per node reached on 3 nodes");
  });
});
