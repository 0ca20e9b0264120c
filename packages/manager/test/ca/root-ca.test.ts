// The stored RootCA: a new one, its digest and roots, revocations, and the signer cache.
import { pki, RootCA, RevokedCertificate } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  currentDigest,
  newRootCa,
  revocationOf,
  RootCaCache,
  rootCaMessage,
  trustedRootsPem,
} from "../../src/ca/root-ca.js";
import { CLUSTER_ID } from "./fixtures.js";

const NOW = Date.parse("2026-03-01T12:00:00Z");

describe("the stored root CA", () => {
  it("a new one carries the certificate, the key and the digest that tokens pin", async () => {
    const { rootCa, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
    expect(Buffer.from(rootCa.caCert).toString()).toBe(ca.certPem);
    expect(Buffer.from(rootCa.caKey).toString()).toBe(ca.exportKeyPem());
    expect(currentDigest(rootCa)).toBe(ca.digest);
    expect(currentDigest({ ...rootCa, caCertDigest: "" })).toBe(ca.digest);
    expect(trustedRootsPem(rootCa).trim()).toBe(ca.certPem.trim());
  });

  it("during a rotation: both roots trusted; the tokens still pin the old one; the signer is the new key with the cross-signed chain", async () => {
    const { rootCa, ca } = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
    const rotation = await pki.startRootRotation(ca, { clusterId: CLUSTER_ID, now: NOW });
    const rotating = RootCA.fromPartial({
      ...rootCa,
      rootRotation: {
        caCert: Buffer.from(rotation.signer.certPem),
        caKey: Buffer.from(rotation.signer.exportKeyPem()),
        crossSignedCaCert: Buffer.from(rotation.crossSignedPem),
      },
    });
    expect(pki.x509.PemConverter.decode(trustedRootsPem(rotating))).toHaveLength(2);
    expect(currentDigest(rotating)).toBe(ca.digest);
    const cache = new RootCaCache();
    const signer = await cache.signer(rotating);
    expect(signer.digest).toBe(rotation.signer.digest);
    const { csrPem } = await pki.createKeyAndCsr();
    const issued = await signer.issue(csrPem, { nodeId: "w1", role: "worker", clusterId: CLUSTER_ID, now: NOW });
    // A node that trusts only the old root accepts it, through the cross-signed certificate.
    await expect(
      pki.verifyCertificateChain(issued.certChainPem, { roots: [ca.certPem], now: NOW }),
    ).resolves.toMatchObject({ nodeId: "w1" });
  });

  it("loads a signer once per stored CA, and again when it changes; a broken one is not cached", async () => {
    const first = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
    const cache = new RootCaCache();
    const a = cache.signer(first.rootCa);
    expect(cache.signer(RootCA.fromPartial(first.rootCa))).toBe(a);
    const second = await newRootCa({ clusterId: CLUSTER_ID, now: NOW });
    expect((await cache.signer(second.rootCa)).digest).toBe(second.ca.digest);
    const broken = rootCaMessage(second.ca);
    broken.caKey = first.rootCa.caKey;
    broken.caCertDigest = "other";
    await expect(cache.signer(broken)).rejects.toMatchObject({ reason: "key-mismatch" });
    await expect(cache.signer(broken)).rejects.toMatchObject({ reason: "key-mismatch" });
  });

  it("finds a revoked serial whatever its case", () => {
    const rootCa = RootCA.fromPartial({
      revoked: [RevokedCertificate.fromPartial({ serialNumber: "0AbC", name: "ci" })],
    });
    expect(revocationOf(rootCa, "0abc")?.name).toBe("ci");
    expect(revocationOf(rootCa, "0abd")).toBeUndefined();
    expect(revocationOf(undefined, "0abc")).toBeUndefined();
  });
});
