import { describe, expect, it } from "vitest";
import { CertificateError, verifyCertificateChain, type CertificateRefusal } from "../../src/pki/index.js";
import { CLUSTER, DAY, NOW, issue, newRoot } from "./fixtures.js";

async function refusal(promise: Promise<unknown>): Promise<CertificateRefusal | undefined> {
  try {
    await promise;
  } catch (err: unknown) {
    if (err instanceof CertificateError) return err.reason;
    throw err;
  }
  return undefined;
}

describe("verifyCertificateChain", () => {
  it("accepts the cluster's own certificates and says who they name", async () => {
    const root = await newRoot();
    const worker = await issue(root, "w1", "worker");
    const identity = await verifyCertificateChain(worker.certChainPem, { roots: [root.certPem], now: NOW });
    expect(identity).toMatchObject({ nodeId: "w1", role: "worker", clusterId: CLUSTER });
    expect(identity.serialNumber).toMatch(/^[0-9a-f]+$/);
    const manager = await issue(root, "m1", "manager");
    await expect(
      verifyCertificateChain(manager.certChainPem, {
        roots: [root.certPem],
        now: NOW + 30 * DAY,
        roles: ["manager"],
        clusterId: CLUSTER,
        usage: "server",
      }),
    ).resolves.toMatchObject({ nodeId: "m1", role: "manager" });
  });

  it("accepts DER certificates (as a TLS socket gives them)", async () => {
    const root = await newRoot();
    const { certChainPem } = await issue(root, "w1", "worker");
    const der = new Uint8Array(Buffer.from(certChainPem.split("-----")[2]!.replace(/\s/g, ""), "base64"));
    await expect(verifyCertificateChain([der], { roots: [root.certPem], now: NOW })).resolves.toMatchObject({
      nodeId: "w1",
    });
  });

  it("refuses a forged certificate: same names, made by another CA", async () => {
    const root = await newRoot();
    const forger = await newRoot();
    const forged = await issue(forger, "m1", "manager");
    expect(await refusal(verifyCertificateChain(forged.certChainPem, { roots: [root.certPem], now: NOW }))).toBe(
      "untrusted",
    );
  });

  it("refuses a forged chain that includes the real root as if it were an intermediate", async () => {
    const root = await newRoot();
    const forger = await newRoot();
    const forged = await issue(forger, "m1", "manager");
    const chain = `${forged.certChainPem}\n${root.certPem}`;
    expect(await refusal(verifyCertificateChain(chain, { roots: [root.certPem], now: NOW }))).toBe("untrusted");
  });

  it("refuses expired and not yet valid certificates", async () => {
    const root = await newRoot();
    const short = await issue(root, "w1", "worker", { lifetimeMs: 2 * 60 * 1000 });
    const options = { roots: [root.certPem] };
    await expect(verifyCertificateChain(short.certChainPem, { ...options, now: NOW + 60_000 })).resolves.toBeDefined();
    expect(await refusal(verifyCertificateChain(short.certChainPem, { ...options, now: NOW + 121_000 }))).toBe(
      "expired",
    );
    expect(await refusal(verifyCertificateChain(short.certChainPem, { ...options, now: NOW - DAY }))).toBe(
      "not-yet-valid",
    );
  });

  it("refuses a certificate whose root has expired", async () => {
    const root = await newRoot();
    const cert = await issue(root, "w1", "worker");
    const after = root.cert.notAfter.getTime() + 1000;
    // The leaf's own end is capped at the root's, so it expires too; the refusal is "expired" either way.
    expect(await refusal(verifyCertificateChain(cert.certChainPem, { roots: [root.certPem], now: after }))).toBe(
      "expired",
    );
  });

  it("refuses the wrong role: a worker where a manager is needed, a client where a node is", async () => {
    const root = await newRoot();
    const worker = await issue(root, "w1", "worker");
    const client = await issue(root, "admin", "client");
    const roots = [root.certPem];
    expect(await refusal(verifyCertificateChain(worker.certChainPem, { roots, now: NOW, roles: ["manager"] }))).toBe(
      "wrong-role",
    );
    expect(
      await refusal(verifyCertificateChain(client.certChainPem, { roots, now: NOW, roles: ["worker", "manager"] })),
    ).toBe("wrong-role");
    await expect(
      verifyCertificateChain(client.certChainPem, { roots, now: NOW, roles: ["manager", "client"] }),
    ).resolves.toMatchObject({ role: "client" });
  });

  it("refuses a certificate for another cluster, even from a trusted root", async () => {
    const root = await newRoot();
    const cert = await issue(root, "w1", "worker", { clusterId: "otherc1uster" });
    expect(
      await refusal(verifyCertificateChain(cert.certChainPem, { roots: [root.certPem], now: NOW, clusterId: CLUSTER })),
    ).toBe("wrong-cluster");
  });

  it("refuses a client certificate used to serve, and a CA certificate used as a leaf", async () => {
    const root = await newRoot();
    const client = await issue(root, "admin", "client");
    const roots = [root.certPem];
    expect(await refusal(verifyCertificateChain(client.certChainPem, { roots, now: NOW, usage: "server" }))).toBe(
      "bad-usage",
    );
    await expect(
      verifyCertificateChain(client.certChainPem, { roots, now: NOW, usage: "client" }),
    ).resolves.toBeDefined();
    expect(await refusal(verifyCertificateChain(root.certPem, { roots, now: NOW }))).toBe("bad-usage");
  });

  it("refuses empty and malformed input, and an empty trust list", async () => {
    const root = await newRoot();
    const cert = await issue(root, "w1", "worker");
    expect(await refusal(verifyCertificateChain("", { roots: [root.certPem], now: NOW }))).toBe("malformed");
    expect(
      await refusal(verifyCertificateChain([new Uint8Array([48, 3, 1, 2])], { roots: [root.certPem], now: NOW })),
    ).toBe("malformed");
    expect(await refusal(verifyCertificateChain(cert.certChainPem, { roots: [], now: NOW }))).toBe("untrusted");
  });

  it("refuses a certificate whose signature was tampered with", async () => {
    const root = await newRoot();
    const { certChainPem } = await issue(root, "w1", "worker");
    const der = Buffer.from(certChainPem.split("-----")[2]!.replace(/\s/g, ""), "base64");
    der[der.length - 3]! ^= 0x01;
    expect(await refusal(verifyCertificateChain([new Uint8Array(der)], { roots: [root.certPem], now: NOW }))).toBe(
      "untrusted",
    );
  });
});
