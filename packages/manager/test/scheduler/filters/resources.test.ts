import { describe, expect, it } from "vitest";
import { ResourceFilter } from "../../../src/scheduler/filters/resources.js";
import { NodeInfo } from "../../../src/scheduler/node-info.js";
import { taskUsage } from "../../../src/scheduler/task-rules.js";
import { CPU, GiB, makeNode, makeTask } from "../fixtures.js";

describe("ResourceFilter", () => {
  it("does not apply to a task that reserves nothing of its resource", () => {
    expect(new ResourceFilter("memory").setTask(makeTask("s", 1, { nanoCpus: CPU }))).toBe(false);
    expect(new ResourceFilter("cpu").setTask(makeTask("s", 1, { memoryBytes: GiB }))).toBe(false);
  });

  it("checks the reservation against capacity minus what held tasks reserve", () => {
    const info = new NodeInfo("a", makeNode("a", { memoryBytes: 4 * GiB, nanoCpus: 2 * CPU }));
    const mem = new ResourceFilter("memory");
    const cpu = new ResourceFilter("cpu");
    mem.setTask(makeTask("s", 1, { memoryBytes: 3 * GiB }));
    cpu.setTask(makeTask("s", 1, { nanoCpus: 2 * CPU }));
    expect(mem.check(info)).toBe(true);
    expect(cpu.check(info)).toBe(true);
    info.addTask("t1", taskUsage(makeTask("s", 1, { memoryBytes: 2 * GiB, nanoCpus: CPU / 2 })), true);
    expect(mem.check(info)).toBe(false);
    expect(cpu.check(info)).toBe(false);
    info.removeTask("t1");
    expect(mem.check(info)).toBe(true);
  });

  it("counts tasks being shut down (still held) but not tasks that ended", () => {
    const info = new NodeInfo("a", makeNode("a", { memoryBytes: 4 * GiB }));
    info.addTask("old", taskUsage(makeTask("s", 1, { memoryBytes: 3 * GiB })), false);
    const mem = new ResourceFilter("memory");
    mem.setTask(makeTask("s", 2, { memoryBytes: 2 * GiB }));
    expect(mem.check(info)).toBe(false);
  });

  it("refuses everything on a node that reports no resources", () => {
    const f = new ResourceFilter("memory");
    f.setTask(makeTask("s", 1, { memoryBytes: 1 }));
    expect(f.check(new NodeInfo("gone"))).toBe(false);
  });

  it("names the resource in its explanation", () => {
    expect(new ResourceFilter("memory").explain(2)).toBe("insufficient memory on 2 nodes");
    expect(new ResourceFilter("cpu").explain(1)).toBe("insufficient CPU on 1 node");
  });
});
