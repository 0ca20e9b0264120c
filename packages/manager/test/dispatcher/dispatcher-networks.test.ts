// The dispatcher over a real gRPC socket tells an agent about the networks of its tasks: the
// network's state comes before the task in the same message, and goes (REMOVE) after the task ends.
import * as grpc from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import {
  AssignmentAction,
  DispatcherClient,
  DispatcherService,
  ManualClock,
  Node,
  NodeRole,
  TaskState,
  silentLogger,
  type AssignmentsResponse,
  type SessionResponse,
} from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { network, service, task, word } from "./network-fixtures.js";

const cleanups: (() => void)[] = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((c) => c()),
);

async function serve(store: MemoryStore, nodeId: string): Promise<DispatcherClient> {
  const clock = new ManualClock(1_000_000);
  const dispatcher = new Dispatcher({
    store,
    clock,
    logger: silentLogger(),
    heartbeatPeriodMs: 1000,
    isLeader: () => true,
    leaderAddr: () => undefined,
    managers: () => [{ nodeId: "m1", addr: "10.0.0.1:4242", weight: 1 }],
    nodeIdOf: () => nodeId,
  });
  dispatcher.setLeader(true);
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new DispatcherClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => {
    client.close();
    dispatcher.stop();
    server.forceShutdown();
  });
  return client;
}

/**
 * Opens node `nodeId`'s session (a data plane, --data-path-addr `dataPathAddr`) and its assignments
 * stream; returns the messages received.
 */
async function assignments(store: MemoryStore, nodeId: string, dataPathAddr = ""): Promise<AssignmentsResponse[]> {
  const client = await serve(store, nodeId);
  const session = client.session({
    description: {
      hostname: "host-a",
      platform: { os: "linux", architecture: "amd64" },
      resources: { nanoCpus: 2e9, memoryBytes: 2 ** 30, pids: 0, generic: [] },
      dataPathAddr,
      networkDataPlane: true,
      engine: { engineVersion: "20.10", labels: {}, plugins: [] },
    },
    nodeId: "",
    sessionId: "",
    joinToken: "",
    imagePulls: false,
    imageInspects: false,
  });
  session.on("error", () => undefined);
  const { sessionId } = await new Promise<SessionResponse>((resolve, reject) => {
    session.once("data", resolve);
    session.once("error", reject);
  });
  const call = client.assignments({ sessionId });
  const messages: AssignmentsResponse[] = [];
  call.on("data", (m: AssignmentsResponse) => messages.push(m));
  call.on("error", () => undefined);
  cleanups.push(() => {
    call.cancel();
    session.cancel();
  });
  return messages;
}

it("sends a network's state before the task that joins it, and REMOVE after its last task ends", async () => {
  const store = new MemoryStore();
  cleanups.push(() => store.close());
  await store.update((tx) => {
    tx.nodes.create(Node.fromPartial({ id: "n1", role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } }));
    tx.networks.create(network("front", "10.0.1.0/24"));
    tx.services.create(service("web", [{ target: "front", vip: "10.0.1.2/24" }]));
  });
  const messages = await assignments(store, "n1");
  await expect.poll(() => messages.length).toBe(1);
  expect(messages[0]!.changes).toEqual([]);

  await store.update((tx) => tx.tasks.create(task("t1", "web", "n1", [["front", "10.0.1.5/24"]])));
  await expect.poll(() => messages.length).toBe(2);
  expect(messages[1]!.changes.map(word)).toEqual(["+net:front", "+task:t1"]);
  const state = messages[1]!.changes[0]!.network!;
  expect(state.network!.ipam!.configs[0]!.subnet).toBe("10.0.1.0/24");
  expect(state.services[0]!.virtualIp).toBe("10.0.1.2");
  expect(state.endpoints).toEqual([
    { taskId: "t1", serviceId: "web", nodeId: "n1", address: "10.0.1.5", ready: false },
  ]);

  await store.update((tx) => {
    const t = tx.tasks.get("t1")!;
    tx.tasks.update({ ...t, desiredState: TaskState.SHUTDOWN, status: { ...t.status!, state: TaskState.SHUTDOWN } });
  });
  await expect.poll(() => messages.length).toBe(3);
  expect(messages[2]!.changes.map(word)).toEqual(["+task:t1", "-net:front"]);
  const removal = messages[2]!.changes[1]!;
  expect(removal.action).toBe(AssignmentAction.REMOVE);
  expect(removal.network!.network!.id).toBe("front");
});

it("a data-plane node gets ingress while a service publishes an ingress port, with its own address", async () => {
  const store = new MemoryStore();
  cleanups.push(() => store.close());
  await store.update((tx) => {
    const n1 = Node.fromPartial({ id: "n1", role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } });
    n1.attachments = [{ networkId: "ingress", addresses: ["10.255.0.2/16"], aliases: [] }];
    tx.nodes.create(n1);
    tx.networks.create(network("ingress", "10.255.0.0/16", true));
  });
  const messages = await assignments(store, "n1", "192.168.9.1");
  await expect.poll(() => messages.length).toBe(1);
  expect(messages[0]!.changes).toEqual([]);
  expect(store.view((tx) => tx.nodes.get("n1"))!.description!.dataPathAddr).toBe("192.168.9.1");

  await store.update((tx) => tx.services.create(service("pub", [], 30080)));
  await expect.poll(() => messages.length).toBe(2);
  expect(messages[1]!.changes.map(word)).toEqual(["+net:ingress"]);
  expect(messages[1]!.changes[0]!.network!.nodeAddress).toBe("10.255.0.2/16");
  expect(messages[1]!.changes[0]!.network!.services).toEqual([]); // no task of it yet

  await store.update((tx) => tx.services.delete("pub"));
  await expect.poll(() => messages.length).toBe(3);
  expect(messages[2]!.changes.map(word)).toEqual(["-net:ingress"]);
});
