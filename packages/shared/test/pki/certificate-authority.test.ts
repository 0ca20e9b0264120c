import { X509Certificate as NodeX509 } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CertificateAuthority, CertificateError, createKeyAndCsr, identityOf, x509 } from "../../src/pki/index.js";
import { CLUSTER, DAY, NOW, issue, newRoot } from "./fixtures.js";

function leafOf(chainPem: string): x509.X509Certificate {
  return new x509.X509Certificate(x509.PemConverter.decodeFirst(chainPem));
}

describe("CertificateAuthority.create", () => {
  it("makes a self-signed P-256 root for 20 years that may sign certificates", async () => {
    const root = await newRoot();
    const cert = root.cert;
    expect(await cert.isSelfSigned()).toBe(true);
    expect((cert.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");
    expect(cert.signatureAlgorithm).toMatchObject({ name: "ECDSA", hash: { name: "SHA-256" } });
    expect(cert.notAfter.getTime() - NOW).toBe(20 * 365 * DAY);
    expect(cert.subject).toMatch(new RegExp(`^CN=swarm-ca-[0-9a-z]{12}, O=${CLUSTER}$`));
    const constraints = cert.getExtension(x509.BasicConstraintsExtension);
    expect(constraints?.ca).toBe(true);
    expect(constraints?.critical).toBe(true);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );
    // OpenSSL (through Node) agrees it is a CA.
    expect(new NodeX509(root.certPem).ca).toBe(true);
  });

  it("keeps its key out of JSON", async () => {
    const root = await newRoot();
    const json = JSON.stringify({ root });
    expect(json).not.toMatch(/PRIVATE KEY/);
    expect(json).toContain(root.digest);
    expect(root.exportKeyPem()).toMatch(/BEGIN PRIVATE KEY/);
  });
});

describe("CertificateAuthority.load", () => {
  it("loads what the store keeps (certificate and key) and signs the same", async () => {
    const root = await newRoot();
    const loaded = await CertificateAuthority.load({ certPem: root.certPem, keyPem: root.exportKeyPem() });
    expect(loaded.digest).toBe(root.digest);
    const { certChainPem } = await issue(loaded, "node1", "worker");
    expect(await leafOf(certChainPem).verify({ publicKey: root.cert.publicKey, signatureOnly: true })).toBe(true);
  });

  it("refuses a key that is not the certificate's, and a certificate that is not a CA", async () => {
    const root = await newRoot();
    const other = await newRoot();
    await expect(CertificateAuthority.load({ certPem: root.certPem, keyPem: other.exportKeyPem() })).rejects.toThrow(
      /does not belong/,
    );
    const leaf = await issue(root, "node1", "worker");
    await expect(CertificateAuthority.load({ certPem: leaf.certChainPem, keyPem: leaf.keyPem })).rejects.toMatchObject({
      reason: "not-a-ca",
    });
  });
});

describe("CertificateAuthority.issue", () => {
  it("names the node id (CN), role (OU) and cluster (O), for 90 days by default", async () => {
    const root = await newRoot();
    const { certChainPem } = await issue(root, "n0de1d", "manager");
    const leaf = leafOf(certChainPem);
    expect(leaf.subject).toBe(`CN=n0de1d, OU=swarm-manager, O=${CLUSTER}`);
    expect(leaf.issuer).toBe(root.cert.subject);
    expect(leaf.notAfter.getTime()).toBe(NOW + 90 * DAY);
    expect(identityOf(leaf)).toMatchObject({ nodeId: "n0de1d", role: "manager", clusterId: CLUSTER });
  });

  it("says what it issued as the certificate itself says it: serial, end, the signing root", async () => {
    const root = await newRoot();
    const { csrPem } = await createKeyAndCsr();
    const issued = await root.issue(csrPem, { nodeId: "n0de1d", role: "worker", clusterId: CLUSTER, now: NOW });
    const leaf = leafOf(issued.certChainPem);
    expect(issued.serialNumber).toBe(leaf.serialNumber);
    expect(issued.notAfter.getTime()).toBe(leaf.notAfter.getTime());
    expect(issued.notBefore.getTime()).toBe(leaf.notBefore.getTime());
    expect(issued.issuerDigest).toBe(root.digest);
  });

  it("gives node certificates both TLS usages and DNS names for the role and node id, plus any hosts", async () => {
    const root = await newRoot();
    const leaf = leafOf((await issue(root, "n1", "manager", { hosts: ["10.0.0.7", "mgr1.example"] })).certChainPem);
    expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    const node = new NodeX509(leaf.toString("pem"));
    expect(node.subjectAltName).toBe("DNS:swarm-manager, DNS:n1, IP Address:10.0.0.7, DNS:mgr1.example");
    expect(node.checkHost("swarm-manager")).toBe("swarm-manager");
    expect(node.checkIP("10.0.0.7")).toBe("10.0.0.7");
    expect(node.checkIssued(new NodeX509(root.certPem))).toBe(true);
    expect(node.verify(new NodeX509(root.certPem).publicKey)).toBe(true);
    const worker = new NodeX509((await issue(root, "n2", "worker")).certChainPem);
    expect(worker.subjectAltName).toBe("DNS:swarm-worker, DNS:n2");
  });

  it("gives client certificates (the CLI's) client authentication only", async () => {
    const root = await newRoot();
    const leaf = leafOf((await issue(root, "admin", "client")).certChainPem);
    expect(leaf.subject).toBe(`CN=admin, OU=shoal-client, O=${CLUSTER}`);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
  });

  it("takes a configured lifetime, but never outlives the CA", async () => {
    const root = await CertificateAuthority.create({ clusterId: CLUSTER, now: NOW, lifetimeMs: 30 * DAY });
    const short = leafOf((await issue(root, "n1", "worker", { lifetimeMs: 2 * 60 * 1000 })).certChainPem);
    expect(short.notAfter.getTime()).toBe(NOW + 120_000);
    const long = leafOf((await issue(root, "n1", "worker")).certChainPem);
    expect(long.notAfter).toEqual(root.cert.notAfter);
  });

  it("uses the request's key only: the subject is the CA's decision", async () => {
    const root = await newRoot();
    const { keyPem, csrPem } = await createKeyAndCsr();
    const { certChainPem } = await root.issue(csrPem, { nodeId: "n1", role: "worker", clusterId: CLUSTER, now: NOW });
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    expect(csr.subject).not.toContain("n1");
    expect(Buffer.from(leafOf(certChainPem).publicKey.rawData)).toEqual(Buffer.from(csr.publicKey.rawData));
    expect(keyPem).toMatch(/PRIVATE KEY/);
  });

  it("refuses bad names, too short lifetimes and a CA past its end", async () => {
    const root = await newRoot();
    const { csrPem } = await createKeyAndCsr();
    const base = { nodeId: "n1", role: "worker" as const, clusterId: CLUSTER, now: NOW };
    await expect(root.issue(csrPem, { ...base, nodeId: "" })).rejects.toBeInstanceOf(CertificateError);
    await expect(root.issue(csrPem, { ...base, nodeId: "a,OU=swarm-manager" })).rejects.toThrow(/node id/);
    await expect(root.issue(csrPem, { ...base, clusterId: "x y" })).rejects.toThrow(/cluster id/);
    await expect(root.issue(csrPem, { ...base, lifetimeMs: 1000 })).rejects.toThrow(/at least/);
    await expect(root.issue(csrPem, { ...base, now: NOW + 21 * 365 * DAY })).rejects.toMatchObject({
      reason: "expired",
    });
  });
});
