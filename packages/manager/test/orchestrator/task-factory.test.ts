import { Service, Task, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { desiredReplicas, newTask, serviceSpecVersion } from "../../src/orchestrator/task-factory.js";
import { service } from "./fixtures.js";

describe("newTask", () => {
  it("makes a replicated task: its slot, no node, status NEW, desired RUNNING, the service's template", () => {
    const svc = service("web", { replicas: 3, version: 7 });
    svc.spec!.endpoint = {
      ports: [{ name: "http", protocol: 0, targetPort: 80, publishedPort: 8080, publishMode: 1 }],
      mode: 0,
    };
    const t = newTask(svc, { slot: 3 }, 42_000, "id-1");
    expect(t).toMatchObject({
      id: "id-1",
      serviceId: svc.id,
      slot: 3,
      nodeId: "",
      annotations: { name: "web.3" },
      serviceAnnotations: { name: "web", labels: { team: "web" } },
      desiredState: TaskState.RUNNING,
      specVersion: { index: 7 },
      status: { state: TaskState.NEW, message: "created" },
    });
    expect(t.spec).toBe(svc.spec!.taskTemplate); // shared until stored: the store copies it
    expect(Task.fromPartial(t)).toEqual(t); // a complete message
    expect(t.endpoint?.ports[0]?.publishedPort).toBe(8080);
    expect(t.status?.timestamp?.getTime()).toBe(42_000);
  });

  it("makes a global task named after its node, with the node set and slot 0", () => {
    const t = newTask(service("agent", { global: true }), { nodeId: "n1" }, 0);
    expect(t).toMatchObject({ slot: 0, nodeId: "n1", annotations: { name: "agent.n1" } });
    expect(t.status?.state).toBe(TaskState.NEW);
    expect(t.id).toHaveLength(25);
  });

  it("takes the spec version from specVersion, else from the service's version", () => {
    const svc = service("web", { version: 4 });
    expect(serviceSpecVersion(svc)).toEqual({ index: 4 });
    svc.specVersion = undefined;
    svc.meta = { version: { index: 9 }, createdAt: undefined, updatedAt: undefined };
    expect(serviceSpecVersion(svc)).toEqual({ index: 9 });
  });
});

describe("desiredReplicas", () => {
  it("reads the replicated mode; an unset mode is one replica; a global service has none", () => {
    expect(desiredReplicas(service("a", { replicas: 0 }))).toBe(0);
    expect(desiredReplicas(service("a", { replicas: 5 }))).toBe(5);
    expect(desiredReplicas(service("a", { global: true }))).toBe(0);
    expect(desiredReplicas(Service.fromPartial({ id: "x", spec: {} }))).toBe(1);
  });
});
