import { webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CertificateError, createKeyAndCsr, readCsr, x509 } from "../../src/pki/index.js";

describe("createKeyAndCsr / readCsr", () => {
  it("makes a key and a request that proves it holds the key", async () => {
    const { keyPem, csrPem } = await createKeyAndCsr();
    expect(keyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(csrPem).toMatch(/BEGIN CERTIFICATE REQUEST/);
    const csr = await readCsr(csrPem);
    expect((csr.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");
  });

  it("makes a new request for an existing key (renewal without a new key)", async () => {
    const first = await createKeyAndCsr();
    const again = await createKeyAndCsr(first.keyPem);
    expect(again.keyPem).toBe(first.keyPem);
    const a = await readCsr(first.csrPem);
    const b = await readCsr(again.csrPem);
    expect(Buffer.from(a.publicKey.rawData)).toEqual(Buffer.from(b.publicKey.rawData));
  });

  it("refuses a request whose signature does not match its key", async () => {
    const { csrPem } = await createKeyAndCsr();
    const der = Buffer.from(x509.PemConverter.decodeFirst(csrPem));
    der[der.length - 5]! ^= 0xff; // inside the signature
    const tampered = x509.PemConverter.encode(der, "CERTIFICATE REQUEST");
    await expect(readCsr(tampered)).rejects.toBeInstanceOf(CertificateError);
  });

  it("refuses garbage and keys other than P-256", async () => {
    await expect(readCsr("nope")).rejects.toThrow(/cannot be parsed/);
    const alg = { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
    const keys = (await webcrypto.subtle.generateKey(alg, false, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=x", keys, signingAlgorithm: alg });
    await expect(readCsr(csr.toString("pem"))).rejects.toThrow(/P-256/);
  });
});
