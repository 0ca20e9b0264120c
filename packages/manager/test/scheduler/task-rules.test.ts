import { PortProtocol, PublishMode, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  groupKey,
  hostPorts,
  isFailure,
  needsPlacement,
  occupancy,
  portKey,
  portName,
  taskUsage,
} from "../../src/scheduler/task-rules.js";
import { genericTask, gpuUnits } from "./generic-fixtures.js";
import { GiB, makeTask } from "./fixtures.js";

describe("needsPlacement (the pending rule)", () => {
  it("takes wanted tasks below ASSIGNED, with or without a node", () => {
    expect(needsPlacement(makeTask("s", 1, { state: TaskState.NEW }))).toBe(true);
    expect(needsPlacement(makeTask("s", 1, { state: TaskState.PENDING }))).toBe(true);
    expect(needsPlacement(makeTask("s", 0, { state: TaskState.NEW, nodeId: "n" }))).toBe(true);
  });

  it("leaves assigned tasks and tasks no longer wanted", () => {
    expect(needsPlacement(makeTask("s", 1, { state: TaskState.ASSIGNED, nodeId: "n" }))).toBe(false);
    expect(needsPlacement(makeTask("s", 1, { state: TaskState.RUNNING, nodeId: "n" }))).toBe(false);
    expect(needsPlacement(makeTask("s", 1, { desiredState: TaskState.SHUTDOWN }))).toBe(false);
    expect(needsPlacement(makeTask("s", 1, { desiredState: TaskState.REMOVE }))).toBe(false);
  });
});

describe("occupancy", () => {
  it("holds from ASSIGNED to RUNNING; active while wanted", () => {
    expect(occupancy(makeTask("s", 1, { state: TaskState.PENDING, nodeId: "n" }))).toBe("none");
    expect(occupancy(makeTask("s", 1, { state: TaskState.ASSIGNED }))).toBe("none"); // no node
    expect(occupancy(makeTask("s", 1, { state: TaskState.ASSIGNED, nodeId: "n" }))).toBe("active");
    expect(occupancy(makeTask("s", 1, { state: TaskState.RUNNING, nodeId: "n" }))).toBe("active");
    expect(
      occupancy(makeTask("s", 1, { state: TaskState.RUNNING, nodeId: "n", desiredState: TaskState.SHUTDOWN })),
    ).toBe("reserved");
    for (const state of [TaskState.COMPLETE, TaskState.FAILED, TaskState.SHUTDOWN, TaskState.REJECTED]) {
      expect(occupancy(makeTask("s", 1, { state, nodeId: "n" }))).toBe("none");
    }
  });

  it("tells failures", () => {
    expect(isFailure(makeTask("s", 1, { state: TaskState.FAILED, nodeId: "n" }))).toBe(true);
    expect(isFailure(makeTask("s", 1, { state: TaskState.REJECTED, nodeId: "n" }))).toBe(true);
    expect(isFailure(makeTask("s", 1, { state: TaskState.COMPLETE, nodeId: "n" }))).toBe(false);
  });
});

describe("usage and group keys", () => {
  it("reads reservations and host ports", () => {
    const t = makeTask("s", 1, { memoryBytes: GiB, nanoCpus: 5e8, hostPorts: [80] });
    t.endpoint!.ports.push(
      { name: "", protocol: PortProtocol.UDP, targetPort: 53, publishedPort: 53, publishMode: PublishMode.HOST },
      { name: "", protocol: PortProtocol.TCP, targetPort: 443, publishedPort: 443, publishMode: PublishMode.INGRESS },
    );
    expect(taskUsage(t)).toEqual({
      serviceId: "s",
      nanoCpus: 5e8,
      memoryBytes: GiB,
      hostPorts: [portKey(PortProtocol.TCP, 80), portKey(PortProtocol.UDP, 53)],
      generic: [],
    });
    expect(hostPorts(t).map(portName)).toEqual(["80/tcp", "53/udp"]);
  });

  it("groups tasks by service and scheduling spec only", () => {
    const a = makeTask("s", 1, { memoryBytes: GiB, constraints: ["node.role==worker"] });
    const b = makeTask("s", 2, { memoryBytes: GiB, constraints: ["node.role==worker"] });
    b.spec!.container!.image = "other";
    expect(groupKey(a)).toBe(groupKey(b));
    expect(groupKey(a)).not.toBe(groupKey(makeTask("t", 1, { memoryBytes: GiB, constraints: ["node.role==worker"] })));
    expect(groupKey(a)).not.toBe(
      groupKey(makeTask("s", 3, { memoryBytes: 2 * GiB, constraints: ["node.role==worker"] })),
    );
    expect(groupKey(a)).not.toBe(groupKey(makeTask("s", 3, { memoryBytes: GiB })));
    expect(groupKey(makeTask("s", 1, { spread: ["node.labels.a"] }))).not.toBe(
      groupKey(makeTask("s", 1, { spread: ["node.labels.b"] })),
    );
    expect(groupKey(makeTask("s", 1, { hostPorts: [80] }))).not.toBe(groupKey(makeTask("s", 1)));
    expect(groupKey(makeTask("s", 1, { maxReplicasPerNode: 1 }))).not.toBe(groupKey(makeTask("s", 1)));
    expect(groupKey(genericTask("s", 1, { gpu: 1 }))).not.toBe(groupKey(genericTask("s", 1, { gpu: 2 })));
    const arm = genericTask("s", 1, {}, { platforms: [{ os: "linux", architecture: "arm64" }] });
    expect(groupKey(arm)).not.toBe(groupKey(makeTask("s", 1)));
  });

  it("reads the generic resources a task was given", () => {
    const t = genericTask("s", 1, { gpu: 1 }, { assigned: gpuUnits("g0") });
    expect(taskUsage(t).generic).toEqual(gpuUnits("g0"));
  });
});
