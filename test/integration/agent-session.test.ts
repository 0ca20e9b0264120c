// The agent's session against a real dispatcher over gRPC: it registers, and when its manager
// goes away it tries the next one and registers there under the same node id.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Backoff, DispatcherService, Node, NodeRole, NodeState, silentLogger, systemClock } from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { FakeExecutor, runSession } from "@shoal/agent";

interface Mgr {
  server: grpc.Server;
  dispatcher: Dispatcher;
  store: MemoryStore;
  addr: string;
}
const managers: Mgr[] = [];
const NODE_ID = "node-1";

/** A manager whose dispatcher leads while `leading.now` (none is known otherwise). */
async function manager(leading: { now: boolean } = { now: true }): Promise<Mgr> {
  const store = new MemoryStore();
  const dispatcher = new Dispatcher({
    store,
    clock: systemClock,
    logger: silentLogger(),
    heartbeatPeriodMs: 200,
    isLeader: () => leading.now,
    leaderAddr: () => undefined,
    managers: () => [],
    // The node its certificate would name (the test runs without TLS), as NodeCA created it.
    nodeIdOf: () => NODE_ID,
  });
  await store.update((tx) =>
    tx.nodes.create(Node.fromPartial({ id: NODE_ID, role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } })),
  );
  dispatcher.setLeader(true);
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const m = { server, dispatcher, store, addr: `127.0.0.1:${port}` };
  managers.push(m);
  return m;
}

afterEach(() => {
  for (const m of managers.splice(0)) {
    m.dispatcher.stop();
    m.server.forceShutdown();
  }
});

describe("agent session", () => {
  it("registers, heartbeats, and fails over to the next manager with the same node id", async () => {
    const first = await manager();
    const second = await manager();
    const executor = new FakeExecutor();
    const sessions: { node: Node; manager: string }[] = [];
    const stop = new AbortController();
    const running = runSession(
      {
        managers: [first.addr, second.addr],
        logger: silentLogger(),
        channel: { credentials: grpc.credentials.createInsecure() },
        backoff: new Backoff({ initialMs: 20, maxMs: 50 }),
        describe: (signal) => executor.describe(signal),
        onSession: (node, addr) => void sessions.push({ node, manager: addr }),
      },
      stop.signal,
    );

    await expect.poll(() => sessions.length).toBe(1);
    const nodeId = sessions[0]!.node.id;
    expect(sessions[0]!.manager).toBe(first.addr);
    // Several heartbeat periods pass and the node stays ready.
    await new Promise((r) => setTimeout(r, 800));
    expect(first.store.view((tx) => tx.nodes.get(nodeId))?.status?.state).toBe(NodeState.READY);

    first.dispatcher.stop();
    first.server.forceShutdown();
    await expect.poll(() => sessions.length, { timeout: 5000 }).toBe(2);
    expect(sessions[1]).toMatchObject({ manager: second.addr, node: { id: nodeId } });
    expect(second.store.view((tx) => tx.nodes.get(nodeId))?.description?.hostname).toBe("fake-host");

    stop.abort();
    await running;
  });

  it("asks again within 500 ms while the managers answer that they know no leader", async () => {
    // Found by the failover suite (scenario 6): after a quorum loss the agent's backoff had grown
    // to ~5 s against managers that answered "no leader"; it came back after the new leader's
    // grace time, was declared down, and its running tasks were replaced.
    const leading = { now: false };
    const first = await manager(leading);
    const second = await manager(leading);
    const executor = new FakeExecutor();
    let openedAt = 0;
    const stop = new AbortController();
    const running = runSession(
      {
        managers: [first.addr, second.addr],
        logger: silentLogger(),
        channel: { credentials: grpc.credentials.createInsecure() },
        describe: (signal) => executor.describe(signal),
        onSession: () => void (openedAt = Date.now()),
      },
      stop.signal,
    );
    // Long enough for the default backoff to grow past 2 s.
    await new Promise((r) => setTimeout(r, 3500));
    expect(openedAt).toBe(0);
    leading.now = true;
    const electedAt = Date.now();
    await expect.poll(() => openedAt, { timeout: 5000, interval: 20 }).toBeGreaterThan(0);
    expect(openedAt - electedAt).toBeLessThan(1000);
    stop.abort();
    await running;
  });
});
