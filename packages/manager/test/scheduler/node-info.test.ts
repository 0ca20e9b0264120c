import { NodeAvailability, NodeRole, NodeState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { FAILURE_WINDOW_MS, NodeInfo, hashString, mix } from "../../src/scheduler/node-info.js";
import { taskUsage } from "../../src/scheduler/task-rules.js";
import { CPU, GiB, makeNode, makeTask } from "./fixtures.js";

describe("NodeInfo", () => {
  it("reads the node's attributes, state and capacity", () => {
    const info = new NodeInfo(
      "n1",
      makeNode("h1", { id: "n1", role: NodeRole.MANAGER, labels: { a: "1" }, nanoCpus: 2 * CPU, memoryBytes: GiB }),
    );
    expect(info.attrs).toMatchObject({ id: "n1", hostname: "h1", role: "manager", os: "linux", labels: { a: "1" } });
    expect([info.ready, info.active, info.availableCpus, info.availableMemory]).toEqual([true, true, 2 * CPU, GiB]);
    info.setNode(makeNode("h1", { id: "n1", state: NodeState.DOWN, availability: NodeAvailability.DRAIN }));
    expect([info.ready, info.active]).toEqual([false, false]);
    info.setNode(undefined);
    expect([info.node, info.ready, info.availableMemory]).toEqual([undefined, false, 0]);
  });

  it("accounts tasks: added, replaced, removed", () => {
    const info = new NodeInfo("n", makeNode("n"));
    const web = taskUsage(makeTask("web", 1, { memoryBytes: GiB, nanoCpus: CPU, hostPorts: [80] }));
    expect(info.addTask("web.1", web, true)).toBe(true);
    expect(info.addTask("web.1", { ...web }, true)).toBe(false); // same usage: nothing changes
    expect([info.reservedMemory, info.reservedCpus, info.activeTasks, info.serviceTasks("web")]).toEqual([
      GiB,
      CPU,
      1,
      1,
    ]);
    expect(info.portInUse(web.hostPorts[0]!)).toBe(true);
    expect(info.addTask("web.1", web, false)).toBe(true); // now being shut down
    expect([info.reservedMemory, info.activeTasks, info.serviceTasks("web")]).toEqual([GiB, 0, 0]);
    expect(info.removeTask("web.1")).toBe(true);
    expect(info.removeTask("web.1")).toBe(false);
    expect([info.reservedMemory, info.reservedCpus, info.taskCount, info.portInUse(web.hostPorts[0]!)]).toEqual([
      0,
      0,
      0,
      false,
    ]);
  });

  it("counts recent failures per service within the window", () => {
    const info = new NodeInfo("n", makeNode("n"));
    for (let i = 0; i < 30; i++) info.recordFailure("web", `t${i}`, 1000 * i);
    info.recordFailure("web", "t29", 29_000); // idempotent
    expect(info.recentFailures("web", 29_000)).toBeGreaterThanOrEqual(5);
    expect(info.recentFailures("web", 29_000 + FAILURE_WINDOW_MS)).toBe(0);
    expect(info.recentFailures("db", 29_000)).toBe(0);
  });

  it("hashes ids stably", () => {
    expect(hashString("abc")).toBe(hashString("abc"));
    expect(hashString("abc")).not.toBe(hashString("abd"));
    expect(mix(1, 2)).not.toBe(mix(1, 3));
  });
});
