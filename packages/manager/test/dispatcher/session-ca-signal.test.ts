// The CA signal on a real dispatcher session: the first message carries the current root's
// digest; a root rotation asks the node to renew on the open stream; its renewal clears the
// flag; the rotation's end sends the new root's digest.
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  Cluster,
  DispatcherClient,
  DispatcherService,
  ManualClock,
  Node,
  NodeRole,
  silentLogger,
  type RootCA,
  type SessionResponse,
} from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { recordIssued } from "../../src/ca/issued-record.js";
import { currentDigest, newRootCa } from "../../src/ca/root-ca.js";
import { finishedRootCa, signingDigest, startRotation } from "../../src/ca/root-rotation.js";

const CLUSTER_ID = "c1u5ter0000000000000000001";
const CALLER = "x-test-node-id";
let base: RootCA;
let rotating: RootCA;
const closers: (() => void)[] = [];

beforeAll(async () => {
  base = (await newRootCa({ clusterId: CLUSTER_ID, now: Date.now() })).rootCa;
  rotating = await startRotation(base, CLUSTER_ID, Date.now());
});

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function next(messages: SessionResponse[], count: number): Promise<void> {
  const end = Date.now() + 5_000;
  while (messages.length < count) {
    if (Date.now() > end) throw new Error(`expected ${count} session messages, got ${messages.length}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the dispatcher session's CA signal", () => {
  it("tells the node to renew during a rotation, and the new root once it ends, on the open stream", async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryStore({ clock });
    await store.update((tx) => {
      tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: base }));
      tx.nodes.create(
        Node.fromPartial({
          id: "n1",
          role: NodeRole.WORKER,
          spec: { desiredRole: NodeRole.WORKER },
          certificate: { serialNumber: "01", issuerDigest: currentDigest(base) },
        }),
      );
    });
    const dispatcher = new Dispatcher({
      store,
      clock,
      logger: silentLogger(),
      isLeader: () => true,
      leaderAddr: () => undefined,
      managers: () => [],
      nodeIdOf: (metadata) => metadata.get(CALLER)[0] as string | undefined,
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
    closers.push(
      () => client.close(),
      () => dispatcher.stop(),
      () => server.forceShutdown(),
      () => store.close(),
    );
    const metadata = new grpc.Metadata();
    metadata.set(CALLER, "n1");
    const call = client.session(
      {
        description: {
          hostname: "host-a",
          platform: undefined,
          resources: undefined,
          engine: undefined,
          dataPathAddr: "",
          networkDataPlane: false,
        },
        nodeId: "",
        sessionId: "",
        joinToken: "",
        imagePulls: false,
        imageInspects: false,
      },
      metadata,
    );
    closers.unshift(() => call.cancel());
    call.on("error", () => undefined);
    const messages: SessionResponse[] = [];
    call.on("data", (m: SessionResponse) => messages.push(m));
    await next(messages, 1);
    expect(messages[0]).toMatchObject({ rootCaDigest: currentDigest(base), renewCertificate: false });

    const setRootCa = (rootCa: RootCA): Promise<void> =>
      store.update((tx) => tx.clusters.update({ ...tx.clusters.find()[0]!, rootCa }));
    await setRootCa(rotating);
    await next(messages, 2);
    expect(messages[1]).toMatchObject({ rootCaDigest: currentDigest(base), renewCertificate: true });
    expect(messages[1]!.sessionId).toBe(messages[0]!.sessionId);

    await store.update((tx) =>
      recordIssued(tx, {
        nodeId: "n1",
        serialNumber: "02",
        issuerDigest: signingDigest(rotating),
        notAfter: undefined,
      }),
    );
    await next(messages, 3);
    expect(messages[2]).toMatchObject({ rootCaDigest: currentDigest(base), renewCertificate: false });

    await setRootCa(finishedRootCa(rotating));
    await next(messages, 4);
    expect(messages[3]).toMatchObject({ rootCaDigest: signingDigest(rotating), renewCertificate: false });
    await new Promise((r) => setTimeout(r, 50));
    expect(messages).toHaveLength(4);
  });
});
