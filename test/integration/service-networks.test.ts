// A service that joins a network, end to end on one manager's store: the leader's components
// (orchestrators, allocator, scheduler) make, allocate and place its tasks, a real dispatcher sends them over gRPC to an agent on a fake executor
// (which reports a network data plane), and they run, each with its own address.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  DispatcherService,
  Network,
  Node,
  NodeRole,
  PortProtocol,
  PublishMode,
  Service,
  TaskState,
  silentLogger,
  systemClock,
} from "@shoal/shared";
import { Dispatcher, MemoryStore, leaderFactories } from "@shoal/manager";
import { Agent, FakeExecutor } from "@shoal/agent";

const NODE_ID = "node-1";
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function network(id: string, name: string, subnet: string, ingress = false): Network {
  return Network.fromPartial({
    id,
    spec: { annotations: { name }, ingress },
    ipam: { configs: [{ subnet, gateway: "", range: "" }] },
    vni: ingress ? 4096 : 4097,
  });
}

async function manager(store: MemoryStore): Promise<string> {
  const dispatcher = new Dispatcher({
    store,
    clock: systemClock,
    logger: silentLogger(),
    heartbeatPeriodMs: 200,
    isLeader: () => true,
    leaderAddr: () => undefined,
    managers: () => [],
    nodeIdOf: () => NODE_ID, // the test runs without TLS: one agent, this node
  });
  dispatcher.setLeader(true);
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  cleanups.push(() => {
    dispatcher.stop();
    server.forceShutdown();
  });
  const leading = new AbortController();
  const components = leaderFactories({ store, logger: silentLogger(), clock: systemClock, managers: () => [] }).map(
    (make) => make(),
  );
  for (const c of components) await c.run(leading.signal);
  cleanups.push(async () => {
    leading.abort();
    for (const c of components.reverse()) await c.stop();
  });
  return `127.0.0.1:${port}`;
}

describe("a service on a network", () => {
  it("gets running tasks, each with its own address on the network and on ingress", async () => {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.nodes.create(Node.fromPartial({ id: NODE_ID, role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } }));
      tx.networks.create(network("net-ingress", "ingress", "10.255.0.0/16", true));
      tx.networks.create(network("net-backend", "backend", "10.0.9.0/24"));
    });
    const addr = await manager(store);
    const dir = await mkdtemp(join(tmpdir(), "shoal-alloc-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const agent = new Agent({
      managers: [addr],
      executor: new FakeExecutor(),
      dataDir: dir,
      logger: silentLogger(),
      insecureCredentials: grpc.credentials.createInsecure(),
    });
    const stopAgent = new AbortController();
    const agentRun = agent.run(stopAgent.signal);
    cleanups.push(async () => {
      stopAgent.abort();
      await agentRun;
    });

    const port = {
      name: "",
      protocol: PortProtocol.TCP,
      targetPort: 80,
      publishedPort: 0,
      publishMode: PublishMode.INGRESS,
    };
    // As the Control API stores it: the network named by its id.
    const service = Service.fromPartial({
      id: "svc-web",
      spec: {
        annotations: { name: "web" },
        taskTemplate: { container: { image: "shoal-base:1" }, networks: [{ target: "net-backend", aliases: ["www"] }] },
        mode: { $case: "replicated", value: { replicas: 3 } },
        endpoint: { ports: [port] },
      },
      specVersion: { index: 1 },
    });
    await store.update((tx) => tx.services.create(service));
    const running = () =>
      store.view((tx) => tx.tasks.find({ serviceId: service.id })).filter((t) => t.status?.state === TaskState.RUNNING);
    await expect.poll(() => running().length, { timeout: 15_000 }).toBe(3);

    const tasks = running();
    for (const t of tasks) {
      expect(t.nodeId).toBe(NODE_ID);
      expect(t.networks.map((n) => n.networkId)).toEqual(["net-backend", "net-ingress"]);
      expect(t.networks[0]!.aliases).toEqual(["www"]);
    }
    const backend = tasks.map((t) => t.networks[0]!.addresses[0]);
    expect(new Set(backend).size).toBe(3);
    for (const a of backend) expect(a).toMatch(/^10\.0\.9\.([2-9]|[1-9][0-9]+)\/24$/);

    const endpoint = store.view((tx) => tx.services.get(service.id))!.endpoint!;
    expect(endpoint.virtualIps).toHaveLength(1);
    expect(endpoint.virtualIps[0]!.networkId).toBe("net-backend");
    expect(backend).not.toContain(endpoint.virtualIps[0]!.addr);
    expect(endpoint.ports[0]!.publishedPort).toBeGreaterThanOrEqual(30000);
    const node = store.view((tx) => tx.nodes.get(NODE_ID))!;
    expect(node.attachments.map((a) => a.networkId)).toEqual(["net-ingress"]);
  });
});
