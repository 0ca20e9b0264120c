import { describe, expect, it } from "vitest";
import {
  CertificateAuthority,
  CertificateError,
  JoinTokenError,
  finishRootRotation,
  joinTokenRole,
  newJoinToken,
  startRootRotation,
  verifyCertificateChain,
} from "../../src/pki/index.js";
import { CLUSTER, DAY, NOW, issue, newRoot } from "./fixtures.js";

const LATER = NOW + DAY;

async function trusts(roots: string[], chainPem: string): Promise<boolean> {
  try {
    await verifyCertificateChain(chainPem, { roots, now: LATER, clusterId: CLUSTER });
    return true;
  } catch (err: unknown) {
    if (err instanceof CertificateError) return false;
    throw err;
  }
}

describe("root rotation with a cross-signed transition", () => {
  it("issues, during the rotation, certificates that nodes trusting either root accept", async () => {
    const old = await newRoot();
    const rotation = await startRootRotation(old, { clusterId: CLUSTER, now: LATER });
    const renewed = await issue(rotation.signer, "w1", "worker", { now: LATER });

    expect(renewed.certChainPem).toContain(rotation.crossSignedPem.trim());
    expect(await trusts([old.certPem], renewed.certChainPem)).toBe(true); // through the cross-signed copy
    expect(await trusts([rotation.signer.certPem], renewed.certChainPem)).toBe(true); // directly
    expect(await trusts([rotation.trustedRootsPem], renewed.certChainPem)).toBe(true);
  });

  it("keeps certificates from the old root working while nodes trust both", async () => {
    const old = await newRoot();
    const before = await issue(old, "w1", "worker");
    const rotation = await startRootRotation(old, { clusterId: CLUSTER, now: LATER });
    expect(await trusts([rotation.trustedRootsPem], before.certChainPem)).toBe(true);
    // A node that already trusts only the new root does not accept them: that is why the
    // rotation waits until every node holds a new certificate before dropping the old root.
    expect(await trusts([rotation.signer.certPem], before.certChainPem)).toBe(false);
  });

  it("ends with the new root alone: new certificates need no cross-signed copy", async () => {
    const old = await newRoot();
    const rotation = await startRootRotation(old, { clusterId: CLUSTER, now: LATER });
    const done = await finishRootRotation(rotation);
    expect(done.digest).toBe(rotation.signer.digest);
    expect(done.digest).not.toBe(old.digest);
    const after = await issue(done, "w1", "worker", { now: LATER });
    expect(after.certChainPem).not.toContain(rotation.crossSignedPem.trim());
    expect(await trusts([done.certPem], after.certChainPem)).toBe(true);
    expect(await trusts([old.certPem], after.certChainPem)).toBe(false);
  });

  it("gives no trust through a cross-signed copy made by an unrelated CA", async () => {
    const old = await newRoot();
    const intruder = await newRoot();
    const fresh = await CertificateAuthority.create({ clusterId: CLUSTER, now: LATER });
    const crossByIntruder = await intruder.crossSign(fresh.certPem, LATER);
    const signer = await CertificateAuthority.load({
      certPem: fresh.certPem,
      keyPem: fresh.exportKeyPem(),
      intermediatesPem: crossByIntruder,
    });
    const cert = await issue(signer, "m1", "manager", { now: LATER });
    expect(await trusts([old.certPem], cert.certChainPem)).toBe(false);
  });

  it("limits the chain: a cross-signed root cannot sign further CAs below it", async () => {
    const old = await newRoot();
    const rotation = await startRootRotation(old, { clusterId: CLUSTER, now: LATER });
    // A second rotation started before the first ended would chain two cross-signed copies.
    const second = await startRootRotation(rotation.signer, { clusterId: CLUSTER, now: LATER });
    const cert = await issue(second.signer, "w1", "worker", { now: LATER });
    const chain = `${cert.certChainPem}\n${rotation.crossSignedPem}`;
    expect(await trusts([old.certPem], chain)).toBe(false);
    expect(await trusts([rotation.signer.certPem], chain)).toBe(true);
  });

  it("makes tokens that pin the old root admit nobody once it is done", async () => {
    const old = await newRoot();
    const tokens = { worker: newJoinToken(old.digest), manager: newJoinToken(old.digest) };
    const done = await finishRootRotation(await startRootRotation(old, { clusterId: CLUSTER, now: LATER }));
    expect(() => joinTokenRole(tokens.worker, tokens, done.digest)).toThrow(JoinTokenError);
    const fresh = { worker: newJoinToken(done.digest), manager: newJoinToken(done.digest) };
    expect(joinTokenRole(fresh.worker, fresh, done.digest)).toBe("worker");
  });
});
