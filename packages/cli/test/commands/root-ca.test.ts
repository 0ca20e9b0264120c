// shoal cluster ca: the root and a rotation's progress read from the Control API; --rotate starts
// one and follows it to its end (or returns at once with --detach).
import { Cluster, Node, pki, RootCA } from "@shoal/shared";
import { recordManagerRenewal, signingDigest, startRotation } from "@shoal/manager";
import { beforeAll, describe, expect, it } from "vitest";
import { progressLine, readRootCa, rotateRootCa } from "../../src/commands/root-ca.js";
import { fakeControl, sink } from "./fake-control.js";

const CLUSTER_ID = "c1u5ter0000000000000000001";
const NOW = Date.parse("2026-03-01T12:00:00Z");

let base: RootCA;
let rotating: RootCA;
let finished: RootCA;
let newDigest: string;

beforeAll(async () => {
  const ca = await pki.CertificateAuthority.create({ clusterId: CLUSTER_ID, now: NOW });
  base = RootCA.fromPartial({ caCert: Buffer.from(ca.certPem), caCertDigest: ca.digest });
  const full = RootCA.fromPartial({ ...base, caKey: Buffer.from(ca.exportKeyPem()) });
  rotating = { ...(await startRotation(full, CLUSTER_ID, NOW)), caKey: new Uint8Array(0) };
  newDigest = signingDigest(rotating);
  finished = RootCA.fromPartial({ caCert: rotating.rootRotation!.caCert, caCertDigest: newDigest });
});

function cluster(rootCa: RootCA): Cluster {
  return Cluster.fromPartial({ id: CLUSTER_ID, meta: { version: { index: 7 } }, rootCa });
}

function node(id: string, issuerDigest: string): Node {
  return Node.fromPartial({ id, certificate: { serialNumber: id, issuerDigest } });
}

const info = { raft: { members: [{ member: { nodeId: "m1" } }] } };

describe("shoal cluster ca", () => {
  it("reads the root, and during a rotation the nodes and managers renewed", async () => {
    const idle = fakeControl((m) => (m === "getCluster" ? { cluster: cluster(base) } : undefined));
    const s = await readRootCa(idle.control);
    expect(s.digest).toBe(base.caCertDigest);
    expect(s.rootPem).toContain("BEGIN CERTIFICATE");
    expect(s.progress).toBeUndefined();
    expect(idle.calls.map((c) => c.method)).toEqual(["getCluster"]);

    const busy = fakeControl((m) => {
      if (m === "getCluster") return { cluster: cluster(rotating) };
      if (m === "listNodes") return { nodes: [node("w1", newDigest), node("w2", base.caCertDigest)] };
      return info;
    });
    const p = (await readRootCa(busy.control)).progress!;
    expect(p).toMatchObject({ total: 3, done: 1, pending: ["m1", "w2"] });
    expect(progressLine(p)).toBe(
      `rotating the root CA to ${newDigest.slice(0, 12)}: 1/3 nodes and managers renewed (waiting for m1, w2)`,
    );
  });

  it("--rotate starts a rotation with the cluster's version and follows it until the new root alone is left", async () => {
    let phase = 0;
    const withManager = recordManagerRenewal(rotating, "m1", newDigest);
    const states = [base, rotating, withManager, withManager, finished];
    const { control, calls } = fakeControl((m) => {
      if (m === "updateCluster") {
        phase = 1;
        return { cluster: cluster(rotating) };
      }
      if (m === "getCluster") {
        const rootCa = states[Math.min(phase, states.length - 1)]!;
        if (phase > 0) phase++;
        return { cluster: cluster(rootCa) };
      }
      if (m === "listNodes") return { nodes: [node("w1", phase >= 4 ? newDigest : base.caCertDigest)] };
      return info;
    });
    const out = sink();
    const pem = await rotateRootCa(control, { out, sleep: async () => undefined });
    expect(pem).toBe(Buffer.from(finished.caCert).toString());
    const update = calls.find((c) => c.method === "updateCluster")!.request as Record<string, unknown>;
    expect(update).toMatchObject({
      clusterId: CLUSTER_ID,
      clusterVersion: { index: 7 },
      rotation: { worker: false, manager: false, rootCa: true },
    });
    expect(out.text).toContain("root CA rotation started");
    expect(out.text).toContain("0/2 nodes and managers renewed");
    expect(out.text).toContain("1/2 nodes and managers renewed");
    expect(out.text).toContain(`root CA rotation done: the root is ${newDigest.slice(0, 12)}`);
  });

  it("--rotate --detach returns once the rotation has started", async () => {
    const { control, calls } = fakeControl((m) =>
      m === "updateCluster" ? { cluster: cluster(rotating) } : { cluster: cluster(base) },
    );
    const pem = await rotateRootCa(control, { detach: true, out: sink() });
    expect(pem).toBe(Buffer.from(rotating.rootRotation!.caCert).toString());
    expect(calls.map((c) => c.method)).toEqual(["getCluster", "updateCluster"]);
  });

  it("gives up following after its timeout (the rotation goes on)", async () => {
    let t = 0;
    const { control } = fakeControl((m) => {
      if (m === "getCluster" && t === 0) return { cluster: cluster(base) };
      if (m === "updateCluster" || m === "getCluster") return { cluster: cluster(rotating) };
      if (m === "listNodes") return { nodes: [] };
      return info;
    });
    await expect(
      rotateRootCa(control, {
        out: sink(),
        timeoutMs: 5_000,
        now: () => t,
        sleep: async (ms) => void (t += ms),
      }),
    ).rejects.toThrow(/not finished yet .*0\/1 nodes and managers renewed/);
  });
});
