import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Cluster, durationToMs, leafIdentity, silentLogger } from "@shoal/shared";
import { ClusterBootstrap } from "../../src/ca/cluster-bootstrap.js";
import { initClusterCa, type ClusterCa } from "../../src/ca/cluster-init.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { CLUSTER_ID } from "./fixtures.js";

let dataDir = "";
let founded: ClusterCa;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-bootstrap-"));
  founded = await initClusterCa({ clusterId: CLUSTER_ID, nodeId: "m1", dataDir, now: Date.now() });
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const clusters = (store: MemoryStore): Cluster[] => store.view((tx) => tx.clusters.find());

describe("ClusterBootstrap", () => {
  it("stores the founded cluster: its id, CA with the admin client's entry, tokens and certificate lifetime", async () => {
    const store = new MemoryStore();
    const bootstrap = new ClusterBootstrap({
      store,
      founding: { clusterId: CLUSTER_ID, founded },
      certExpiryMs: 3_600_000,
      logger: silentLogger(),
    });
    await bootstrap.ensure();
    const [cluster] = clusters(store);
    const admin = leafIdentity(founded.admin.certChainPem);
    expect(cluster).toMatchObject({
      id: CLUSTER_ID,
      spec: { annotations: { name: "default" } },
      rootJoinTokens: founded.joinTokens,
      rootCa: { clients: [{ serialNumber: admin.serialNumber, name: "admin" }] },
    });
    expect(Buffer.from(cluster!.rootCa!.caCert).equals(Buffer.from(founded.rootCa.caCert))).toBe(true);
    expect(durationToMs(cluster!.spec!.caConfig!.nodeCertExpiry!, 0)).toBe(3_600_000);
  });

  it("stores the founding manager's address pool for networks, and refuses a bad one", async () => {
    const store = new MemoryStore();
    const addressPool = { pools: ["10.20.0.0/16", "172.28.0.0/14"], subnetSize: 26 };
    const logger = silentLogger();
    await new ClusterBootstrap({ store, founding: { clusterId: CLUSTER_ID, founded }, addressPool, logger }).ensure();
    expect(clusters(store)[0]).toMatchObject({ defaultAddressPool: addressPool.pools, subnetSize: 26 });
    const bad = (pools: string[], subnetSize: number) => () =>
      new ClusterBootstrap({
        store,
        founding: { clusterId: CLUSTER_ID, founded },
        addressPool: { pools, subnetSize },
        logger,
      });
    expect(bad(["10.20.0.0/33"], 0)).toThrow(/--default-addr-pool: "10.20.0.0\/33" is not an IPv4 CIDR/);
    expect(bad(["10.20.0.0/16"], 12)).toThrow(/--default-addr-pool-mask-length: \/12 subnets do not fit in pool/);
    expect(bad([], 30)).toThrow(/--default-addr-pool-mask-length: 30: expected a prefix length of 8 to 29/);
  });

  it("writes once, and not over a cluster object that exists", async () => {
    const store = new MemoryStore();
    await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: "other", spec: {} })));
    const update = vi.spyOn(store, "update");
    const bootstrap = new ClusterBootstrap({
      store,
      founding: { clusterId: CLUSTER_ID, founded },
      logger: silentLogger(),
    });
    await bootstrap.ensure();
    await bootstrap.ensure();
    expect(clusters(store).map((c) => c.id)).toEqual(["other"]);
    expect(update).toHaveBeenCalledTimes(1);
  });

  it("tries again on the next leadership when the write fails", async () => {
    const store = new MemoryStore();
    vi.spyOn(store, "update").mockRejectedValueOnce(new Error("not the leader"));
    const bootstrap = new ClusterBootstrap({
      store,
      founding: { clusterId: CLUSTER_ID, founded },
      logger: silentLogger(),
    });
    await bootstrap.ensure();
    expect(clusters(store)).toEqual([]);
    await bootstrap.ensure();
    expect(clusters(store).map((c) => c.id)).toEqual([CLUSTER_ID]);
  });

  it("does nothing on a manager that did not found the cluster", async () => {
    const store = new MemoryStore();
    await new ClusterBootstrap({
      store,
      founding: { clusterId: CLUSTER_ID, founded: undefined },
      logger: silentLogger(),
    }).ensure();
    expect(clusters(store)).toEqual([]);
  });
});
