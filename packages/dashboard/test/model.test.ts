import { effect } from "@preact/signals";
import { describe, expect, it } from "vitest";
import type { NodeView, ServiceView, StateSnapshot, TaskView } from "../src/api.js";
import { ClusterModel } from "../src/app/model.js";

const node = (id: string, hostname: string): NodeView => ({
  ...{ id, hostname, role: "worker", status: "ready", availability: "active", managerStatus: "", addr: "" },
  ...{ engineVersion: "", labels: {}, resources: { nanoCpus: 4e9, memoryBytes: 8e9 }, version: 1 },
});
const service = (id: string, name: string, replicas?: number): ServiceView => ({
  ...{ id, name, mode: replicas === undefined ? "global" : "replicated", image: "busybox", labels: {} },
  ...{ ports: [], createdAt: "", updatedAt: "", version: 1, ...(replicas === undefined ? {} : { replicas }) },
});
const task = (
  id: string,
  serviceId: string,
  slot: number,
  nodeId: string,
  fields: Partial<TaskView> = {},
): TaskView => ({
  ...{ id, serviceId, name: `web.${slot}`, slot, nodeId, desiredState: "running", state: "running", health: "" },
  ...{ message: "", error: "", containerId: "", image: "busybox", since: "", version: 1 },
  reserved: { nanoCpus: 1e9, memoryBytes: 1e9 },
  ...fields,
});
const snapshot = (): StateSnapshot => ({
  ...{ clusterId: "c", managerNodeId: "n1", isLeader: true, index: 10 },
  nodes: [node("n2", "b"), node("n1", "a")],
  services: [service("s1", "web", 3)],
  tasks: [task("t10", "s1", 10, "n1"), task("t2", "s1", 2, "n1"), task("t1", "s1", 1, "n2", { state: "starting" })],
});

describe("ClusterModel", () => {
  it("orders rows and sums each node's reservations over its running tasks", () => {
    const model = new ClusterModel();
    model.load(snapshot());
    expect(model.nodes.ids.value).toEqual(["n1", "n2"]);
    expect(model.tasks.ids.value).toEqual(["t1", "t2", "t10"]);
    expect(model.nodeUsage("n1").value).toEqual({ tasks: 2, nanoCpus: 2e9, memoryBytes: 2e9 });
    expect(model.nodeUsage("n2").value).toEqual({ tasks: 1, nanoCpus: 0, memoryBytes: 0 });
    expect(model.serviceReplicas("s1").value).toEqual({ running: 2, desired: 3 });
    expect(model.serviceTasks("s1").value).toEqual(["t1", "t2", "t10"]);
  });

  it("applies a batch to the rows and figures it touches, and nothing else", () => {
    const model = new ClusterModel();
    model.load(snapshot());
    const usage1 = model.nodeUsage("n1");
    const usage2 = model.nodeUsage("n2");
    const rowB = model.nodes.row("n2")!;
    let renders = 0;
    const stop = effect(() => {
      void rowB.value;
      renders++;
    });
    model.apply({ index: 11, changes: [{ kind: "task", action: "upsert", object: task("t2", "s1", 2, "n2") }] });
    model.flush();
    expect(usage1.value).toEqual({ tasks: 1, nanoCpus: 1e9, memoryBytes: 1e9 });
    expect(usage2.value).toEqual({ tasks: 2, nanoCpus: 1e9, memoryBytes: 1e9 });
    expect(model.nodeTasks("n2").value).toEqual(["t1", "t2"]);
    expect(renders).toBe(1);
    stop();
  });

  it("ignores an old batch, and drops tasks that are done", () => {
    const model = new ClusterModel();
    model.load(snapshot());
    model.apply({ index: 10, changes: [{ kind: "node", action: "remove", id: "n1" }] });
    expect(model.nodes.get("n1")).toBeDefined();
    const done = task("t10", "s1", 10, "n1", { desiredState: "shutdown", state: "shutdown" });
    model.apply({ index: 12, changes: [{ kind: "task", action: "upsert", object: done }] });
    model.flush();
    expect(model.tasks.get("t10")).toBeUndefined();
    expect(model.serviceReplicas("s1").value).toEqual({ running: 1, desired: 3 });
    model.apply({ index: 13, changes: [{ kind: "service", action: "upsert", object: service("s1", "web", 5) }] });
    model.flush();
    expect(model.serviceReplicas("s1").value.desired).toBe(5);
  });

  it("counts a global service's desired tasks", () => {
    const model = new ClusterModel();
    model.load({ ...snapshot(), services: [service("s1", "web")] });
    expect(model.serviceReplicas("s1").value).toEqual({ running: 2, desired: 3 });
  });
});
