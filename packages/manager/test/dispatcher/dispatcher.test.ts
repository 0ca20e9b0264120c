// The dispatcher over a real gRPC socket, writing to a real store: agents open sessions for the
// nodes their certificates name (here a test header stands in for the certificate the auth
// interceptor reads), heartbeat, get their assigned tasks as a stream, report status, and go
// down when silent.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AssignmentAction,
  AssignmentsType,
  Cluster,
  DispatcherClient,
  DispatcherService,
  ManualClock,
  Node,
  NodeRole,
  NodeState,
  Service,
  Task,
  TaskState,
  TaskStatus,
  durationToMs,
  silentLogger,
  type AssignmentsResponse,
  type NodeDescription,
  type SessionResponse,
} from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";

const description: NodeDescription = {
  hostname: "host-a",
  platform: { os: "linux", architecture: "amd64" },
  resources: { nanoCpus: 2e9, memoryBytes: 2 ** 30, pids: 0, generic: [] },
  dataPathAddr: "",
  networkDataPlane: false,
  engine: { engineVersion: "20.10", labels: {}, plugins: [] },
};

interface Setup {
  clock: ManualClock;
  store: MemoryStore;
  dispatcher: Dispatcher;
  client: DispatcherClient;
  server: grpc.Server;
  leader: { value: boolean };
  /** The node the client calls as (its certificate's node id; "" for none). */
  as: { node: string };
}

let setup: Setup | undefined;

async function start(): Promise<Setup> {
  const clock = new ManualClock(1_000_000);
  const store = new MemoryStore({ clock });
  const leader = { value: true };
  const dispatcher = new Dispatcher({
    store,
    clock,
    logger: silentLogger(),
    heartbeatPeriodMs: 1000,
    isLeader: () => leader.value,
    leaderAddr: () => (leader.value ? undefined : "10.0.0.9:4242"),
    managers: () => [{ nodeId: "m1", addr: "10.0.0.1:4242", weight: 1 }],
    nodeIdOf: (metadata) => {
      const v = metadata.get(CALLER)[0];
      return typeof v === "string" && v !== "" ? v : undefined;
    },
  });
  dispatcher.setLeader(true);
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const as = { node: "" };
  const client = new DispatcherClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    interceptors: [
      (options, next) =>
        new grpc.InterceptingCall(next(options), {
          start: (metadata, listener, proceed) => {
            metadata.set(CALLER, as.node);
            proceed(metadata, listener);
          },
        }),
    ],
  });
  setup = { clock, store, dispatcher, client, server, leader, as };
  return setup;
}

afterEach(() => {
  setup?.client.close();
  setup?.dispatcher.stop();
  setup?.server.forceShutdown();
  setup?.store.close();
  setup = undefined;
});

const CALLER = "x-test-node-id";
/** The StatusBatcher's default flush interval. */
const STATUS_BATCH_MS = 20;
let nodes = 0;

/** A node as NodeCA creates it when the node joins. */
async function joinNode(store: MemoryStore, id = `node-${++nodes}`): Promise<string> {
  await store.update((tx) =>
    tx.nodes.create(Node.fromPartial({ id, role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } })),
  );
  return id;
}

/** Opens a session as `nodeId` (joined first unless given), which stays the client's caller. */
async function openSession(s: Setup, nodeId?: string): Promise<SessionResponse> {
  s.as.node = nodeId ?? (await joinNode(s.store));
  const call = s.client.session({
    description,
    nodeId: "",
    sessionId: "",
    joinToken: "",
    imagePulls: false,
    imageInspects: false,
  });
  return new Promise((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
}

function heartbeat({ client }: Setup, sessionId: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.heartbeat({ sessionId }, (err, res) => (err ? reject(err) : resolve(durationToMs(res.period, -1)))),
  );
}

const nodeState = (store: MemoryStore, id: string): NodeState | undefined =>
  store.view((tx) => tx.nodes.get(id))?.status?.state;

describe("Dispatcher", () => {
  it("opens a session for the certificate's node: ready in the store, with its description and the managers", async () => {
    const s = await start();
    const { store } = s;
    const first = await openSession(s);
    expect(first.sessionId).not.toBe("");
    expect(first.node?.id).toBe(s.as.node);
    expect(first.managers).toEqual([{ nodeId: "m1", addr: "10.0.0.1:4242", weight: 1 }]);
    const node = store.view((tx) => tx.nodes.get(first.node!.id));
    expect(node?.status).toMatchObject({ state: NodeState.READY, addr: "127.0.0.1" });
    expect(node?.description?.hostname).toBe("host-a");
  });

  it("refuses a caller without a certificate, and a node that is not in the store (removed)", async () => {
    const s = await start();
    await expect(openSession(s, "")).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(openSession(s, "never-joined")).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: "node never-joined is not in the cluster (removed): join again with a token",
    });
    const first = await openSession(s);
    const again = await openSession(s, first.node!.id);
    expect(again.node?.id).toBe(first.node!.id);
    expect(s.store.view((tx) => tx.nodes.find())).toHaveLength(1);
  });

  it("says which session is open, and tells when one ends: replaced, or its node down", async () => {
    const s = await start();
    const ended: string[][] = [];
    s.dispatcher.onSessionEnd((nodeId, sessionId) => ended.push([nodeId, sessionId]));
    const first = await openSession(s);
    const node = first.node!.id;
    expect(s.dispatcher.isOpenSession(node, first.sessionId)).toBe(true);
    expect(s.dispatcher.isOpenSession("other", first.sessionId)).toBe(false);
    const second = await openSession(s, node);
    expect(ended).toEqual([[node, first.sessionId]]);
    expect(s.dispatcher.isOpenSession(node, first.sessionId)).toBe(false);
    expect(s.dispatcher.hasSession(node)).toBe(true);
    s.clock.advance(3000);
    await expect
      .poll(() => ended)
      .toEqual([
        [node, first.sessionId],
        [node, second.sessionId],
      ]);
    expect(s.dispatcher.hasSession(node)).toBe(false);
  });

  it("serves a session to its own node only", async () => {
    const s = await start();
    const mine = await openSession(s);
    s.as.node = await joinNode(s.store);
    await expect(heartbeat(s, mine.sessionId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("answers heartbeats with the period and marks the node down after three missed periods", async () => {
    const s = await start();
    const { store, clock } = s;
    const { sessionId, node } = await openSession(s);
    expect(await heartbeat(s, sessionId)).toBe(1000);
    clock.advance(2900);
    expect(await heartbeat(s, sessionId)).toBe(1000);
    clock.advance(2900);
    expect(nodeState(store, node!.id)).toBe(NodeState.READY);
    clock.advance(200);
    await expect
      .poll(() => store.view((tx) => tx.nodes.get(node!.id))?.status)
      .toMatchObject({
        state: NodeState.DOWN,
        message: "heartbeat failure",
      });
    await expect(heartbeat(s, sessionId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("follows the heartbeat period the cluster's dispatcher config sets, and the missed periods with it", async () => {
    const s = await start();
    const { store, clock } = s;
    await store.update((tx) =>
      tx.clusters.create(
        Cluster.fromPartial({
          id: "c1",
          spec: { annotations: { name: "default" }, dispatcher: { heartbeatPeriod: { seconds: 4, nanos: 0 } } },
        }),
      ),
    );
    clock.advance(1000); // the dispatcher reads the cluster's config at most once a second
    const { sessionId, node } = await openSession(s);
    expect(await heartbeat(s, sessionId)).toBe(4000);
    clock.advance(11_900); // under three periods of 4 s: still ready
    expect(await heartbeat(s, sessionId)).toBe(4000);
    clock.advance(11_900);
    expect(nodeState(store, node!.id)).toBe(NodeState.READY);
    clock.advance(200);
    await expect.poll(() => nodeState(store, node!.id)).toBe(NodeState.DOWN);
  });

  it("refuses a session without a hostname, saying which field is missing", async () => {
    const { client, store, as } = await start();
    as.node = await joinNode(store);
    const call = client.session({
      description: { ...description, hostname: "" },
      nodeId: "",
      sessionId: "",
      joinToken: "",
      imagePulls: false,
      imageInspects: false,
    });
    const err = await new Promise<grpc.ServiceError>((resolve) => call.once("error", resolve));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe("description.hostname: is required");
  });

  it("sends a follower's agents to the leader", async () => {
    const s = await start();
    s.leader.value = false;
    await expect(openSession(s)).rejects.toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      details: "not the leader; the leader is 10.0.0.9:4242",
    });
  });

  it("streams the node's tasks: the complete set, then changes per commit", async () => {
    const s = await start();
    const { client, store } = s;
    const { sessionId, node } = await openSession(s);
    const nodeId = node!.id;
    const mk = (id: string, state: TaskState, on = nodeId): Task =>
      Task.fromPartial({
        id,
        serviceId: "s1",
        slot: 1,
        nodeId: on,
        desiredState: TaskState.RUNNING,
        status: { state },
      });
    await store.update((tx) => {
      tx.services.create(Service.fromPartial({ id: "s1", spec: { annotations: { name: "web" } } }));
      tx.tasks.create(mk("t1", TaskState.ASSIGNED));
      tx.tasks.create(mk("t2", TaskState.PENDING, "")); // not scheduled: not sent
      tx.tasks.create(mk("t3", TaskState.ASSIGNED, "other-node")); // another node's
    });
    const call = client.assignments({ sessionId });
    const messages: AssignmentsResponse[] = [];
    call.on("data", (m: AssignmentsResponse) => messages.push(m));
    call.on("error", () => undefined);
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]!.type).toBe(AssignmentsType.COMPLETE);
    expect(messages[0]!.changes.map((c) => c.task!.id)).toEqual(["t1"]);

    await store.update((tx) => {
      const t2 = tx.tasks.get("t2")!;
      tx.tasks.update({ ...t2, nodeId, status: { ...t2.status!, state: TaskState.ASSIGNED } });
      const t1 = tx.tasks.get("t1")!;
      tx.tasks.update({ ...t1, desiredState: TaskState.SHUTDOWN });
    });
    await expect.poll(() => messages.length).toBe(2);
    expect(messages[1]!.type).toBe(AssignmentsType.INCREMENTAL);
    expect(messages[1]!.appliesTo).toBe(messages[0]!.resultsIn);
    expect(messages[1]!.changes.map((c) => [c.action, c.task!.id, c.task!.desiredState]).sort()).toEqual([
      [AssignmentAction.UPDATE, "t1", TaskState.SHUTDOWN],
      [AssignmentAction.UPDATE, "t2", TaskState.RUNNING],
    ]);

    // A status change alone (the agent's own report) is not sent back to it.
    await store.update((tx) => {
      const t2 = tx.tasks.get("t2")!;
      tx.tasks.update({ ...t2, status: { ...t2.status!, state: TaskState.RUNNING } });
    });
    await store.update((tx) => tx.tasks.delete("t1"));
    await expect.poll(() => messages.length).toBe(3);
    expect(messages[2]!.changes.map((c) => [c.action, c.task!.id])).toEqual([[AssignmentAction.REMOVE, "t1"]]);
    call.cancel();
  });

  it("records task status from the task's own node only, and only forward", async () => {
    const s = await start();
    const { client, store } = s;
    const { sessionId, node } = await openSession(s);
    await store.update((tx) => {
      tx.tasks.create(
        Task.fromPartial({
          id: "t1",
          nodeId: node!.id,
          desiredState: TaskState.RUNNING,
          status: { state: TaskState.ASSIGNED },
        }),
      );
      tx.tasks.create(
        Task.fromPartial({
          id: "t9",
          nodeId: "someone-else",
          desiredState: TaskState.RUNNING,
          status: { state: TaskState.ASSIGNED },
        }),
      );
    });
    // The answer comes once the report's batch is written: when the dispatcher has queued it (its
    // flush timer is armed on the manual clock), move the clock past the batch interval.
    const report = async (taskId: string, state: TaskState): Promise<void> => {
      const timers = s.clock.pendingTimers;
      let answered = false;
      const answer = new Promise<void>((resolve, reject) =>
        client.updateTaskStatus(
          { sessionId, updates: [{ taskId, status: TaskStatus.fromPartial({ state, message: String(state) }) }] },
          (err) => {
            answered = true;
            if (err) reject(err);
            else resolve();
          },
        ),
      );
      await expect.poll(() => answered || s.clock.pendingTimers > timers).toBe(true);
      s.clock.advance(STATUS_BATCH_MS);
      await answer;
    };
    await report("t1", TaskState.RUNNING);
    const flushedAt = s.clock.now();
    await report("t9", TaskState.FAILED);
    await expect.poll(() => store.view((tx) => tx.tasks.get("t1"))?.status?.state).toBe(TaskState.RUNNING);
    // A report without a timestamp gets the time of its flush, from the dispatcher's clock.
    expect(store.view((tx) => tx.tasks.get("t1"))?.status?.timestamp).toEqual(new Date(flushedAt));
    await report("t1", TaskState.STARTING); // backwards: ignored
    expect(store.view((tx) => tx.tasks.get("t1"))?.status?.state).toBe(TaskState.RUNNING);
    expect(store.view((tx) => tx.tasks.get("t9"))?.status?.state).toBe(TaskState.ASSIGNED);
  });

  it("after a leader change, nodes are unknown, then down unless their agent comes back within the grace time", async () => {
    const s = await start();
    const { store, clock, dispatcher } = s;
    const a = await openSession(s);
    const b = await openSession(s);
    dispatcher.setLeader(false);
    dispatcher.setLeader(true);
    await expect.poll(() => nodeState(store, a.node!.id)).toBe(NodeState.UNKNOWN);
    expect(nodeState(store, b.node!.id)).toBe(NodeState.UNKNOWN);
    const back = await openSession(s, a.node!.id); // a comes back, and heartbeats
    for (let i = 0; i < 3; i++) {
      clock.advance(2500);
      await heartbeat(s, back.sessionId);
    }
    clock.advance(600); // past the grace time: 3 periods + 5 s
    await expect.poll(() => nodeState(store, b.node!.id)).toBe(NodeState.DOWN);
    expect(nodeState(store, a.node!.id)).toBe(NodeState.READY);
  });
});
