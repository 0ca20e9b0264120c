// Shoal's objects as the Docker API shows them: a node, against a recorded Docker 20.10 node.
import {
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  Reachability,
  Service,
  Task,
  TaskState,
  type RootCA,
} from "@shoal/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { newRootCa } from "../../src/ca/root-ca.js";
import { toDockerNode, toDockerService, toDockerTask } from "../../src/dockerapi/objects.js";
import { swarmTlsInfo } from "../../src/dockerapi/tls-info.js";
import { dockerAnswer, shapeDifferences } from "./json-kinds.js";

let rootCa: RootCA;
beforeAll(async () => {
  rootCa = (await newRootCa({ clusterId: "c1", now: Date.parse("2026-11-29T08:31:51Z") })).rootCa;
});

const agent = (labels: Record<string, string> = {}): Node =>
  Node.fromPartial({
    id: "n0de00000000000000000000001",
    meta: { version: { index: 9 }, createdAt: new Date(0), updatedAt: new Date(1000) },
    spec: {
      annotations: { name: "", labels: {} },
      desiredRole: NodeRole.MANAGER,
      availability: NodeAvailability.ACTIVE,
    },
    description: {
      hostname: "vm",
      platform: { os: "linux", architecture: "amd64" },
      resources: { nanoCpus: 2e9, memoryBytes: 25276502016 },
      engine: {
        engineVersion: "20.10.24",
        labels,
        plugins: [
          { type: "Network", name: "bridge" },
          { type: "Volume", name: "local" },
        ],
      },
    },
    status: { state: NodeState.READY, message: "", addr: "127.0.0.1" },
    managerStatus: { raftId: 1, addr: "127.0.0.1:2377", leader: true, reachability: Reachability.REACHABLE },
    role: NodeRole.MANAGER,
    certificate: { serialNumber: "01", issuerDigest: "", notAfter: undefined },
  });

describe("toDockerNode", () => {
  it("has the fields and types of Docker 20.10's, the engine's plugins included", () => {
    expect(shapeDifferences(toDockerNode(agent(), rootCa), dockerAnswer("docker-20.10-node.json"))).toEqual([]);
    const engine = (toDockerNode(agent(), rootCa) as { Description: { Engine: Record<string, unknown> } }).Description
      .Engine;
    expect(engine["Plugins"]).toEqual([
      { Type: "Network", Name: "bridge" },
      { Type: "Volume", Name: "local" },
    ]);
  });

  it("names the architecture as the kernel does, and shows the cluster's TLS info", () => {
    const node = toDockerNode(agent(), rootCa) as { Description: Record<string, unknown> };
    expect(node.Description["Platform"]).toEqual({ Architecture: "x86_64", OS: "linux" });
    expect(node.Description["TLSInfo"]).toEqual(swarmTlsInfo(rootCa));
    expect(node.Description["TLSInfo"]).toMatchObject({ TrustRoot: Buffer.from(rootCa.caCert).toString() });
  });

  it("shows engine labels only when there are some, as Docker leaves them out when empty", () => {
    const engine = (n: Node): unknown =>
      (toDockerNode(n, rootCa) as { Description: { Engine: unknown } }).Description.Engine;
    expect(engine(agent())).not.toHaveProperty("Labels");
    expect(engine(agent({ zone: "a" }))).toMatchObject({ EngineVersion: "20.10.24", Labels: { zone: "a" } });
  });

  it("has an empty TLS info before the cluster has a CA", () => {
    expect(toDockerNode(agent())).toMatchObject({ Description: { TLSInfo: {} } });
  });
});

describe("jobs", () => {
  const job = Service.fromPartial({
    id: "svc1",
    spec: {
      annotations: { name: "j" },
      mode: { $case: "replicatedJob", value: { totalCompletions: 10, maxConcurrent: 3 } },
    },
    jobStatus: { jobIteration: { index: 2 }, lastExecution: new Date(Date.parse("2026-12-07T08:00:00Z")) },
  });

  it("shows a job's JobStatus and counts completions, as the docker CLI reads them", () => {
    const shown = toDockerService(job, { counts: { running: 3, desired: 3, completed: 4 } });
    expect(shown["JobStatus"]).toEqual({ JobIteration: { Index: 2 }, LastExecution: "2026-12-07T08:00:00.000Z" });
    expect(shown["ServiceStatus"]).toEqual({ RunningTasks: 3, DesiredTasks: 3, CompletedTasks: 4 });
    expect(toDockerService(Service.fromPartial({ id: "s" }))["JobStatus"]).toBeUndefined();
  });

  it("numbers a replicated job's slots from 0 and shows its tasks wanted complete", () => {
    const task = (slot: number, desired: TaskState, state: TaskState) =>
      Task.fromPartial({
        id: "t",
        serviceId: "svc1",
        slot,
        jobIteration: { index: 2 },
        desiredState: desired,
        status: { state },
      });
    const first = toDockerTask(task(1, TaskState.RUNNING, TaskState.RUNNING));
    expect(first["Slot"]).toBeUndefined(); // slot 0, left out as Docker does
    expect(first).toMatchObject({
      DesiredState: "complete",
      JobIteration: { Index: 2 },
    });
    expect(toDockerTask(task(4, TaskState.SHUTDOWN, TaskState.COMPLETE))).toMatchObject({
      Slot: 3,
      DesiredState: "complete",
    });
    expect(toDockerTask(task(4, TaskState.SHUTDOWN, TaskState.FAILED))).toMatchObject({ DesiredState: "shutdown" });
    const service = Task.fromPartial({ id: "t", serviceId: "s", slot: 2, desiredState: TaskState.RUNNING });
    expect(toDockerTask(service)).toMatchObject({ Slot: 2, DesiredState: "running" });
    expect(toDockerTask(service)["JobIteration"]).toBeUndefined();
  });
});
