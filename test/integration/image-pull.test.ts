// An image pull from the leader's dispatcher to a real agent over gRPC (fake executor): the agent
// offers pulls on its session, pulls with the credentials given while its tasks go on, reports the
// lines and the outcome, and a failed pull comes back as the node's error.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  DispatcherService,
  Node,
  NodeRole,
  NodeState,
  RegistryAuth,
  silentLogger,
  systemClock,
  type PullImageResponse,
} from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { Agent, FakeExecutor, ImagePullError } from "@shoal/agent";

const NODE_ID = "node-1";
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(executor: FakeExecutor): Promise<{ dispatcher: Dispatcher; store: MemoryStore }> {
  const store = new MemoryStore();
  const dispatcher = new Dispatcher({
    store,
    clock: systemClock,
    logger: silentLogger(),
    isLeader: () => true,
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
  const dataDir = await mkdtemp(join(tmpdir(), "shoal-pull-agent-"));
  const agent = new Agent({
    managers: [`127.0.0.1:${port}`],
    executor,
    dataDir,
    logger: silentLogger(),
    hostname: "host-a",
    insecureCredentials: grpc.credentials.createInsecure(),
  });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  cleanups.push(async () => {
    stop.abort();
    await running;
    dispatcher.stop();
    server.forceShutdown();
    store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await expect
    .poll(() => store.view((tx) => tx.nodes.get(NODE_ID))?.status?.state, { timeout: 5000 })
    .toBe(NodeState.READY);
  return { dispatcher, store };
}

async function pull(dispatcher: Dispatcher, image: string): Promise<PullImageResponse[]> {
  const auth = RegistryAuth.fromPartial({ username: "u", password: "secret" });
  const out: PullImageResponse[] = [];
  const order = { image, auth, platform: "", timeoutMs: 30_000 };
  for await (const m of dispatcher.imagePulls.pull(order, AbortSignal.timeout(10_000))) out.push(m);
  return out;
}

describe("image pull from the dispatcher to an agent", () => {
  it("pulls on the agent's host with the credentials, and streams its lines and outcome", async () => {
    const executor = new FakeExecutor();
    const { dispatcher } = await cluster(executor);
    const got = await pull(dispatcher, "registry:5000/app:1");
    expect(got[0]!.nodes).toEqual([{ nodeId: NODE_ID, hostname: "host-a" }]);
    const last = got.at(-1)!;
    expect(last).toMatchObject({ node: { hostname: "host-a" }, done: true, error: "" });
    const statuses = got.flatMap((m) => m.lines.map((l) => l.status));
    expect(statuses.at(-1)).toBe("Status: Downloaded newer image for registry:5000/app:1");
    expect(executor.images.pulls).toEqual([
      {
        image: "registry:5000/app:1",
        auth: RegistryAuth.fromPartial({ username: "u", password: "secret" }),
        platform: "",
      },
    ]);
    expect(executor.images.present.has("registry:5000/app:1")).toBe(true);
  });

  it("reports the registry's refusal as the node's error", async () => {
    const executor = new FakeExecutor();
    executor.images.script("nosuch:1", { lines: [], error: new ImagePullError("nosuch:1", "manifest unknown") });
    const { dispatcher } = await cluster(executor);
    const got = await pull(dispatcher, "nosuch:1");
    expect(got.at(-1)).toMatchObject({ done: true, error: "pulling image nosuch:1: manifest unknown" });
  });
});
