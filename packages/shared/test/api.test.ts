import { Server, ServerCredentials, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AssignmentAction,
  AssignmentsResponse,
  AssignmentsType,
  ControlClient,
  ControlService,
  DispatcherClient,
  DispatcherService,
  GetInfoResponse,
  HealthState,
  InternalRaftRequest,
  PortProtocol,
  PublishMode,
  RaftEntryType,
  RaftMessage,
  RaftMessageType,
  RestartCondition,
  ServiceSpec,
  StoreActionKind,
  Task,
  TaskState,
  TaskStatus,
  UpdateFailureAction,
  UpdateOrder,
  durationFromMs,
  durationToMs,
  type ControlServer,
  type DispatcherServer,
} from "../src/api.js";

function sampleServiceSpec(): ServiceSpec {
  return ServiceSpec.create({
    annotations: { name: "web", labels: { tier: "front" } },
    taskTemplate: {
      container: {
        image: "registry:5000/busybox:latest",
        command: ["httpd"],
        args: ["-f", "-p", "8080"],
        env: ["MODE=prod", "EMPTY="],
        labels: { "com.example": "yes" },
        dir: "/www",
        user: "1000:1000",
        healthcheck: {
          test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/ || exit 1"],
          interval: durationFromMs(1500),
          timeout: durationFromMs(500),
          startPeriod: durationFromMs(0),
          retries: 3,
        },
        stopSignal: "SIGTERM",
        stopGracePeriod: { seconds: 10, nanos: 0 },
      },
      resources: {
        limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 1024 * 1024 },
        reservations: { nanoCpus: 100_000_000, memoryBytes: 0 },
      },
      restartPolicy: {
        condition: RestartCondition.ON_FAILURE,
        delay: durationFromMs(5000),
        maxAttempts: 3,
        window: durationFromMs(60_000),
      },
      placement: {
        constraints: ["node.role==worker", "node.labels.zone!=eu"],
        preferences: [{ preference: { $case: "spread", value: { spreadDescriptor: "node.labels.dc" } } }],
        maxReplicasPerNode: 2,
      },
      forceUpdate: 1,
    },
    mode: { $case: "replicated", value: { replicas: 3 } },
    updateConfig: {
      parallelism: 1,
      delay: durationFromMs(250),
      failureAction: UpdateFailureAction.ROLLBACK,
      monitor: durationFromMs(5000),
      maxFailureRatio: 0.25, // exact in a float32
      order: UpdateOrder.START_FIRST,
    },
    rollbackConfig: { parallelism: 0, order: UpdateOrder.STOP_FIRST },
    endpoint: {
      ports: [
        {
          name: "http",
          protocol: PortProtocol.TCP,
          targetPort: 8080,
          publishedPort: 30080,
          publishMode: PublishMode.INGRESS,
        },
        { name: "dns", protocol: PortProtocol.UDP, targetPort: 53, publishedPort: 0, publishMode: PublishMode.HOST },
      ],
    },
  });
}

describe("messages", () => {
  it("round-trips a ServiceSpec through the binary encoding", () => {
    const spec = sampleServiceSpec();
    const bytes = ServiceSpec.encode(spec).finish();
    const back = ServiceSpec.decode(bytes);
    expect(back).toEqual(spec);
    expect(back.mode).toEqual({ $case: "replicated", value: { replicas: 3 } });
    expect(back.taskTemplate?.container?.healthcheck?.test[0]).toBe("CMD-SHELL");
  });

  it("round-trips the global mode, whose message is empty", () => {
    const spec = ServiceSpec.create({ annotations: { name: "agentd" }, mode: { $case: "global", value: {} } });
    const back = ServiceSpec.decode(ServiceSpec.encode(spec).finish());
    expect(back.mode?.$case).toBe("global");
    expect(back).toEqual(spec);
  });

  it("leaves unset message fields undefined and fills scalars with defaults", () => {
    const back = ServiceSpec.decode(ServiceSpec.encode(ServiceSpec.create({})).finish());
    expect(back.mode).toBeUndefined();
    expect(back.updateConfig).toBeUndefined();
    expect(ServiceSpec.create({ annotations: {} }).annotations).toEqual({ name: "", labels: {} });
  });

  it("round-trips a Task, timestamps as Dates", () => {
    const created = new Date("2025-01-02T03:04:05.678Z");
    const task = Task.create({
      id: "t1",
      meta: { version: { index: 42 }, createdAt: created, updatedAt: new Date(created.getTime() + 1) },
      spec: sampleServiceSpec().taskTemplate,
      serviceId: "s1",
      slot: 3,
      nodeId: "n1",
      annotations: { name: "web.3" },
      serviceAnnotations: { name: "web", labels: { tier: "front" } },
      status: {
        timestamp: created,
        state: TaskState.RUNNING,
        message: "started",
        err: "",
        containerStatus: { containerId: "c0ffee", pid: 1234, exitCode: 0 },
        health: HealthState.HEALTHY,
        portStatus: { ports: [{ targetPort: 8080, publishedPort: 30080 }] },
      },
      desiredState: TaskState.RUNNING,
      specVersion: { index: 40 },
    });
    const back = Task.decode(Task.encode(task).finish());
    expect(back).toEqual(task);
    expect(back.meta?.createdAt).toBeInstanceOf(Date);
    expect(back.meta?.createdAt?.getTime()).toBe(created.getTime());
    expect(back.status?.state).toBe(TaskState.RUNNING);
  });

  it("round-trips a raft entry payload and a raft message with bytes", () => {
    const request = InternalRaftRequest.create({
      id: 7,
      actions: [
        { kind: StoreActionKind.CREATE, target: { $case: "task", value: Task.create({ id: "t1" }) } },
        { kind: StoreActionKind.REMOVE, target: { $case: "node", value: { id: "n1" } } },
      ],
    });
    const data = InternalRaftRequest.encode(request).finish();
    expect(InternalRaftRequest.decode(data)).toEqual(request);

    const message = RaftMessage.create({
      type: RaftMessageType.APP,
      to: 2,
      from: 1,
      term: 5,
      logTerm: 4,
      index: 10,
      commit: 9,
      entries: [{ term: 5, index: 11, type: RaftEntryType.NORMAL, data }],
    });
    const back = RaftMessage.decode(RaftMessage.encode(message).finish());
    expect(back).toEqual(message);
    expect(back.entries[0]?.data).toBeInstanceOf(Uint8Array);
    expect(RaftMessageType.PRE_VOTE_RESP).toBe(18); // etcd's numbering
  });

  it("keeps an enum value it does not know as its number", () => {
    // A newer peer may send a state this build does not know.
    const unknown = 900 as TaskState;
    const bytes = TaskStatus.encode(TaskStatus.create({ state: unknown })).finish();
    expect(TaskStatus.decode(bytes).state).toBe(900);
  });

  it("converts durations to and from milliseconds", () => {
    expect(durationFromMs(1500)).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(durationFromMs(-250)).toEqual({ seconds: 0, nanos: -250_000_000 });
    expect(durationFromMs(1999.9999999999)).toEqual({ seconds: 2, nanos: 0 });
    expect(durationToMs({ seconds: 2, nanos: 5_000_000 }, 0)).toBe(2005);
    expect(durationToMs(undefined, 5000)).toBe(5000);
  });
});

describe("TaskState", () => {
  it("has SwarmKit's gapped values, in order", () => {
    expect(TaskState.NEW).toBe(0);
    expect(TaskState.PENDING).toBe(64);
    expect(TaskState.ASSIGNED).toBe(192);
    expect(TaskState.ACCEPTED).toBe(256);
    expect(TaskState.PREPARING).toBe(320);
    expect(TaskState.STARTING).toBe(384);
    expect(TaskState.RUNNING).toBe(512);
    expect(TaskState.COMPLETE).toBe(576);
    expect(TaskState.SHUTDOWN).toBe(640);
    expect(TaskState.FAILED).toBe(704);
    expect(TaskState.REJECTED).toBe(768);
    expect(TaskState.REMOVE).toBe(800);
    expect(TaskState.ORPHANED).toBe(832);
  });

  it("orders states so that later ones compare greater", () => {
    expect(TaskState.RUNNING).toBeGreaterThan(TaskState.STARTING);
    expect(TaskState.FAILED).toBeGreaterThan(TaskState.RUNNING);
    expect(TaskState.COMPLETE).toBeGreaterThan(TaskState.RUNNING);
    expect(TaskState.PENDING).toBeGreaterThan(TaskState.NEW);
    expect(TaskState.REMOVE).toBeGreaterThan(TaskState.SHUTDOWN);
    const declared = Object.values(TaskState).filter((v): v is number => typeof v === "number");
    expect(declared).toHaveLength(13);
    expect([...declared].sort((a, b) => a - b)).toEqual(declared);
  });
});

describe("gRPC over a real socket", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.forceShutdown();
    server = undefined;
  });

  async function listen(setup: (s: Server) => void): Promise<string> {
    const s = new Server();
    setup(s);
    server = s;
    const port = await new Promise<number>((resolve, reject) => {
      s.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    return `127.0.0.1:${port}`;
  }

  it("serves Control.GetInfo to the generated client", async () => {
    const control: Pick<ControlServer, "getInfo"> = {
      getInfo: (_call, callback) => {
        callback(
          null,
          GetInfoResponse.create({
            clusterId: "c1",
            nodeId: "m1",
            leaderAddr: "127.0.0.1:4242",
            isLeader: true,
            raft: {
              raftId: 1,
              leaderRaftId: 1,
              term: 2,
              commitIndex: 10,
              appliedIndex: 10,
              members: [{ member: { raftId: 1 }, leader: true }],
            },
          }),
        );
      },
    };
    const addr = await listen((s) => s.addService(ControlService, control));
    const client = new ControlClient(addr, credentials.createInsecure());
    try {
      const info = await new Promise<GetInfoResponse>((resolve, reject) => {
        client.getInfo({}, (err, res) => (err ? reject(err) : resolve(res)));
      });
      expect(info.clusterId).toBe("c1");
      expect(info.isLeader).toBe(true);
      expect(info.raft?.commitIndex).toBe(10);
      expect(info.raft?.members[0]?.member?.raftId).toBe(1);

      // Methods the server does not implement fail with UNIMPLEMENTED.
      const err = await new Promise<ServiceError>((resolve, reject) => {
        client.listNodes({ filters: undefined }, (e) => (e ? resolve(e) : reject(new Error("expected an error"))));
      });
      expect(err.code).toBe(status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });

  it("streams Dispatcher.Assignments to the generated client", async () => {
    const dispatcher: Pick<DispatcherServer, "assignments"> = {
      assignments: (call) => {
        call.write(
          AssignmentsResponse.create({
            type: AssignmentsType.COMPLETE,
            resultsIn: "v1",
            changes: [{ action: AssignmentAction.UPDATE, task: { id: "t1", desiredState: TaskState.RUNNING } }],
          }),
        );
        call.write(
          AssignmentsResponse.create({
            type: AssignmentsType.INCREMENTAL,
            appliesTo: "v1",
            resultsIn: "v2",
            changes: [{ action: AssignmentAction.REMOVE, task: { id: "t1" } }],
          }),
        );
        call.end();
      },
    };
    const addr = await listen((s) => s.addService(DispatcherService, dispatcher));
    const client = new DispatcherClient(addr, credentials.createInsecure());
    try {
      const received: AssignmentsResponse[] = [];
      for await (const message of client.assignments({ sessionId: "s1" })) {
        received.push(message as AssignmentsResponse);
      }
      expect(received.map((m) => m.type)).toEqual([AssignmentsType.COMPLETE, AssignmentsType.INCREMENTAL]);
      expect(received[0]?.changes[0]?.task?.desiredState).toBe(TaskState.RUNNING);
      expect(received[1]?.appliesTo).toBe("v1");
    } finally {
      client.close();
    }
  });
});
