import { describe, expect, it } from "vitest";
import {
  CertificateError,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  sameKey,
  x509,
} from "../../src/pki/index.js";
import { createPrivateKey } from "node:crypto";

describe("keys", () => {
  it("are P-256 and written as PKCS#8 PEM that Node's crypto reads", async () => {
    const keys = await generateKeyPair();
    const pem = await exportPrivateKeyPem(keys.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const nodeKey = createPrivateKey(pem);
    expect(nodeKey.asymmetricKeyType).toBe("ec");
    expect(nodeKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("read back into the same pair", async () => {
    const keys = await generateKeyPair();
    const back = await importPrivateKeyPem(await exportPrivateKeyPem(keys.privateKey));
    const publicKey = await x509.PublicKey.create(keys.publicKey);
    expect(await sameKey(publicKey, back)).toBe(true);
    expect(await sameKey(publicKey, await generateKeyPair())).toBe(false);
  });

  it("refuse text that is not a P-256 key", async () => {
    await expect(importPrivateKeyPem("nothing")).rejects.toBeInstanceOf(CertificateError);
    const junk = x509.PemConverter.encode(new Uint8Array([1, 2, 3]), "PRIVATE KEY");
    await expect(importPrivateKeyPem(junk)).rejects.toThrow(/not a P-256 ECDSA key/);
  });
});
