import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  RaftTransportClient,
  RaftTransportService,
  channelCredentials,
  silentLogger,
} from "@shoal/shared";
import { ManagerServer } from "../../src/server/manager-server.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { CLUSTER_ID, material, testCluster } from "../ca/fixtures.js";

describe("ManagerServer", () => {
  it("binds with the manager's certificate (port 0 picks one) and shuts down once", async () => {
    const cluster = await testCluster();
    const server = new ManagerServer({ store: cluster.store, isRaftMember: () => false, logger: silentLogger() });
    await server.run();
    const address = await server.bind("127.0.0.1:0", await material(cluster.ca, "m1", "manager"));
    expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
  });

  it("says where it cannot listen", async () => {
    const cluster = await testCluster();
    const tls = await material(cluster.ca, "m1", "manager");
    const first = new ManagerServer({ store: cluster.store, isRaftMember: () => false, logger: silentLogger() });
    const taken = await first.bind("127.0.0.1:0", tls);
    const second = new ManagerServer({ store: new MemoryStore(), isRaftMember: () => false, logger: silentLogger() });
    await expect(second.bind(taken, tls)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringMatching(new RegExp(`^cannot listen on ${taken}`)),
    });
    await Promise.all([first.stop(), second.stop()]);
  });

  it("gives calls still open the grace period, then cuts them", async () => {
    const cluster = await testCluster();
    await cluster.store.update((tx) => {
      const c = tx.clusters.get(CLUSTER_ID)!;
      tx.clusters.update({ ...c, rootCa: cluster.rootCa() });
    });
    const server = new ManagerServer({
      store: cluster.store,
      isRaftMember: () => true,
      logger: silentLogger(),
      graceMs: 200,
    });
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    server.addService(RaftTransportService, {
      streamRaftMessage: () => opened(), // never answers: a peer's stream stays open
      processRaftMessage: (_call: unknown, callback: (e: null, r: object) => void) => callback(null, {}),
      resolveAddress: (_call: unknown, callback: (e: null, r: object) => void) => callback(null, {}),
    });
    const address = await server.bind("127.0.0.1:0", await material(cluster.ca, "m1", "manager"));
    const peer = await material(cluster.ca, "m2", "manager");
    const client = new RaftTransportClient(address, channelCredentials(peer), MANAGER_CHANNEL_OPTIONS);
    const call = client.streamRaftMessage(() => undefined);
    call.on("error", () => undefined);
    call.write({ message: undefined, chunk: new Uint8Array(0), lastChunk: false });
    await open;
    const started = Date.now();
    await server.stop();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2000);
    client.close();
  });
});
