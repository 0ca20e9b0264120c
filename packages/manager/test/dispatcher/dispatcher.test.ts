// The dispatcher over a real gRPC socket: agents register, heartbeat, and go down when silent.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  DispatcherClient,
  DispatcherService,
  ManualClock,
  NodeState,
  durationToMs,
  silentLogger,
  type NodeDescription,
  type SessionResponse,
} from "@shoal/shared";
import { Dispatcher, NodeRegistry } from "@shoal/manager";

const description: NodeDescription = {
  hostname: "host-a",
  platform: { os: "linux", architecture: "amd64" },
  resources: { nanoCpus: 2e9, memoryBytes: 2 ** 30 },
  engine: { engineVersion: "20.10", labels: {} },
};

interface Setup {
  clock: ManualClock;
  registry: NodeRegistry;
  dispatcher: Dispatcher;
  client: DispatcherClient;
  server: grpc.Server;
}

let setup: Setup | undefined;

async function start(): Promise<Setup> {
  const clock = new ManualClock(1_000_000);
  const registry = new NodeRegistry(clock);
  const dispatcher = new Dispatcher({ registry, clock, logger: silentLogger(), heartbeatPeriodMs: 1000 });
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new DispatcherClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  setup = { clock, registry, dispatcher, client, server };
  return setup;
}

afterEach(() => {
  setup?.client.close();
  setup?.dispatcher.stop();
  setup?.server.forceShutdown();
  setup = undefined;
});

function openSession(client: DispatcherClient, nodeId = ""): Promise<SessionResponse> {
  const call = client.session({ description, nodeId, sessionId: "", joinToken: "" });
  return new Promise((resolve, reject) => {
    call.once("data", resolve);
    call.once("error", reject);
  });
}

function heartbeat(client: DispatcherClient, sessionId: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.heartbeat({ sessionId }, (err, res) => (err ? reject(err) : resolve(durationToMs(res.period, -1)))),
  );
}

describe("Dispatcher", () => {
  it("registers a new agent as a ready node with its description and gives it an id", async () => {
    const { client, registry } = await start();
    const first = await openSession(client);
    expect(first.sessionId).not.toBe("");
    expect(first.node?.id).toHaveLength(25);
    const node = registry.get(first.node!.id);
    expect(node?.status?.state).toBe(NodeState.READY);
    expect(node?.description?.hostname).toBe("host-a");
  });

  it("keeps the node id an agent brings back", async () => {
    const { client, registry } = await start();
    const first = await openSession(client);
    const again = await openSession(client, first.node!.id);
    expect(again.node?.id).toBe(first.node!.id);
    expect(registry.list()).toHaveLength(1);
  });

  it("answers heartbeats with the period and marks the node down after three missed periods", async () => {
    const { client, registry, clock } = await start();
    const { sessionId, node } = await openSession(client);
    expect(await heartbeat(client, sessionId)).toBe(1000);
    clock.advance(2900);
    expect(await heartbeat(client, sessionId)).toBe(1000);
    clock.advance(2900);
    expect(registry.get(node!.id)?.status?.state).toBe(NodeState.READY);
    clock.advance(200);
    const down = registry.get(node!.id);
    expect(down?.status).toMatchObject({ state: NodeState.DOWN, message: "heartbeat failure" });
    await expect(heartbeat(client, sessionId)).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("refuses a session without a hostname, saying which field is missing", async () => {
    const { client } = await start();
    const call = client.session({
      description: { ...description, hostname: "" },
      nodeId: "",
      sessionId: "",
      joinToken: "",
    });
    const err = await new Promise<grpc.ServiceError>((resolve) => call.once("error", resolve));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe("description.hostname: is required");
  });
});
