// A manager's own part in a root rotation: it renews when the rotation asks and when the root
// changes (and once at start if it trusts more than the current root), and rewrites the admin
// client certificate of its data dir from the new key.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, ManualClock, leafIdentity, pki, readCertFiles, silentLogger, type RootCA } from "@shoal/shared";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_CERT_DIR, writeClientCertificate } from "../../src/ca/cluster-init.js";
import { bundleDigests, ManagerCaFollower } from "../../src/ca/manager-ca-follower.js";
import { currentDigest, newRootCa, trustedRootsPem } from "../../src/ca/root-ca.js";
import { finishedRootCa, recordManagerRenewal, signingDigest, startRotation } from "../../src/ca/root-rotation.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { settle } from "../orchestrator/helpers.js";
import { CLUSTER_ID } from "./fixtures.js";

const NOW = Date.now();

/** Waits in real time for I/O (signing, file writes), not for a timer: the follower has none to wait for. */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
let base: RootCA;
let ca: pki.CertificateAuthority;
let rotating: RootCA;
const dirs: string[] = [];

beforeAll(async () => {
  ({ rootCa: base, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: NOW }));
  rotating = await startRotation(base, CLUSTER_ID, NOW);
});

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(
  trusted: string,
  withCluster = true,
): Promise<{
  store: MemoryStore;
  follower: ManagerCaFollower;
  renewals: () => number;
  dataDir: string;
  setRootCa(r: RootCA): Promise<void>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), "shoal-follower-"));
  dirs.push(dataDir);
  await writeClientCertificate(join(dataDir, CLIENT_CERT_DIR), ca, { name: "admin", clusterId: CLUSTER_ID, now: NOW });
  const store = new MemoryStore();
  if (withCluster)
    await store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: base })));
  let n = 0;
  const follower = new ManagerCaFollower({
    store,
    nodeId: "m1",
    dataDir,
    renewNow: () => void n++,
    trustedRootsPem: () => trusted,
    clock: new ManualClock(NOW),
    logger: silentLogger(),
  });
  const setRootCa = (rootCa: RootCA): Promise<void> =>
    store.update((tx) => tx.clusters.update({ ...tx.clusters.find()[0]!, rootCa }));
  return { store, follower, renewals: () => n, dataDir, setRootCa };
}

describe("ManagerCaFollower", () => {
  it("renews at the start of a rotation and at its end, and renews the admin client from the new key", async () => {
    const h = await setup(ca.certPem);
    h.follower.start();
    await settle();
    expect(h.renewals()).toBe(0);
    await h.setRootCa(rotating);
    await until(() => h.renewals() === 1, "a renewal when the rotation starts");
    const adminDir = join(h.dataDir, CLIENT_CERT_DIR);
    await until(
      () => h.store.view((tx) => tx.clusters.find()[0]!.rootCa!.clients.length) === 1,
      "the new admin certificate recorded",
    );
    const files = (await readCertFiles(adminDir))!;
    const newRoot = Buffer.from(rotating.rootRotation!.caCert).toString();
    const admin = leafIdentity(files.certChainPem);
    expect(admin.nodeId).toBe("admin");
    expect(admin.role).toBe("client");
    await expect(
      pki.verifyCertificateChain(files.certChainPem, { roots: [newRoot], now: Date.now(), roles: ["client"] }),
    ).resolves.toBeDefined();
    expect(bundleDigests(files.caPem)).toEqual(bundleDigests(trustedRootsPem(rotating)));
    // Recorded: the manager renewed; no more renewals asked for.
    await h.setRootCa(recordManagerRenewal(rotating, "m1", signingDigest(rotating)));
    await settle();
    expect(h.renewals()).toBe(1);
    // The end: the root changes, renew again to trust the new root alone.
    await h.setRootCa(finishedRootCa(recordManagerRenewal(rotating, "m1", signingDigest(rotating))));
    await until(() => h.renewals() === 2, "a renewal when the rotation ends");
    await h.follower.stop();
    await h.follower.stop();
  });

  it("at start, renews once if it trusts more than the current root", async () => {
    const h = await setup(`${ca.certPem}\n${Buffer.from(rotating.rootRotation!.caCert).toString()}`);
    h.follower.start();
    await settle();
    expect(h.renewals()).toBe(1);
    expect(currentDigest(base)).toBe(ca.digest);
    await h.follower.stop();
  });

  it("does not renew when the cluster's root first appears after it started (a founding manager)", async () => {
    const h = await setup(ca.certPem, false);
    h.follower.start();
    await settle();
    await h.store.update((tx) => tx.clusters.create(Cluster.fromPartial({ id: CLUSTER_ID, rootCa: base })));
    await settle();
    expect(h.renewals()).toBe(0);
    // It follows the root from there: a rotation still asks for a renewal.
    await h.setRootCa(rotating);
    await until(() => h.renewals() === 1, "a renewal when the rotation starts");
    await h.follower.stop();
  });
});
