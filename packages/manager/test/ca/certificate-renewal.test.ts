import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger, systemClock } from "@shoal/shared";
import { CertificateRenewal, renewalAddresses } from "../../src/ca/certificate-renewal.js";
import { material, testCluster } from "./fixtures.js";

const members = [
  { raftId: 1, nodeId: "m1", addr: "10.0.0.1:4242" },
  { raftId: 2, nodeId: "m2", addr: "10.0.0.2:4242" },
  { raftId: 3, nodeId: "m3", addr: "10.0.0.3:4242" },
];

let dataDir = "";
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-renewal-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("renewalAddresses", () => {
  it("asks the leader first, then the other managers", () => {
    expect(renewalAddresses("10.0.0.2:4242", members)).toEqual(["10.0.0.2:4242", "10.0.0.1:4242", "10.0.0.3:4242"]);
  });

  it("asks every manager when no leader is known", () => {
    expect(renewalAddresses(undefined, members)).toEqual(["10.0.0.1:4242", "10.0.0.2:4242", "10.0.0.3:4242"]);
  });
});

describe("CertificateRenewal", () => {
  it("runs the renewer and the CA follower until stopped; stop is idempotent", async () => {
    const cluster = await testCluster();
    const renewal = new CertificateRenewal({
      clock: systemClock,
      dataDir,
      store: cluster.store,
      credentials: { material: await material(cluster.ca, "m1", "manager"), nodeId: "m1" },
      raft: { leaderAddr: () => undefined, members: () => [] },
      logger: silentLogger(),
    });
    renewal.stop();
    await renewal.run();
    renewal.stop();
    renewal.stop();
    cluster.store.close();
  });
});
