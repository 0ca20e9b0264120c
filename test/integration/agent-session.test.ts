// The agent's session against a real dispatcher over gRPC: it registers, and when its manager
// goes away it tries the next one and registers there under the same node id.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { Backoff, DispatcherService, NodeState, silentLogger, systemClock, type Node } from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { FakeExecutor, runSession } from "@shoal/agent";

interface Mgr {
  server: grpc.Server;
  dispatcher: Dispatcher;
  store: MemoryStore;
  addr: string;
}
const managers: Mgr[] = [];

async function manager(): Promise<Mgr> {
  const store = new MemoryStore();
  const dispatcher = new Dispatcher({
    store,
    clock: systemClock,
    logger: silentLogger(),
    heartbeatPeriodMs: 200,
    isLeader: () => true,
    leaderAddr: () => undefined,
    managers: () => [],
    tokenRole: () => "worker",
  });
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
});
