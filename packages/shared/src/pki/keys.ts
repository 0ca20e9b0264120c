// ECDSA P-256 key pairs: made with WebCrypto, kept on disk and in the store as PKCS#8 PEM.
import { webcrypto } from "node:crypto";
import { CertificateError } from "./errors.js";
import { EC_ALGORITHM, EC_KEY_ALGORITHM, pemBlocks, x509 } from "./x509.js";

const { subtle } = webcrypto;

// The base tsconfig has no DOM library: WebCrypto's types come from Node's.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A new P-256 key pair; the private key is extractable so that it can be written out. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** The private key as PKCS#8 PEM ("PRIVATE KEY"), the form Node's TLS and grpc-js read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** Reads a PKCS#8 PEM P-256 private key back into a key pair (the public half is derived from it). */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKeyPair> {
  const der = pemBlocks(pem, "PRIVATE KEY")[0];
  if (!der) throw new CertificateError("malformed", "no PKCS#8 PRIVATE KEY block in the key PEM");
  let privateKey: CryptoKey;
  try {
    privateKey = await subtle.importKey("pkcs8", der, EC_KEY_ALGORITHM, true, ["sign"]);
  } catch (err: unknown) {
    throw new CertificateError("malformed", "the private key is not a P-256 ECDSA key", { cause: err });
  }
  const jwk = await subtle.exportKey("jwk", privateKey);
  const publicKey = await subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x: jwk.x ?? "", y: jwk.y ?? "", ext: true },
    EC_KEY_ALGORITHM,
    true,
    ["verify"],
  );
  return { privateKey, publicKey };
}

/** Whether `publicKey` (of a certificate, say) is the public half of `keys`. */
export async function sameKey(publicKey: x509.PublicKey, keys: CryptoKeyPair): Promise<boolean> {
  const ours = new Uint8Array(await subtle.exportKey("spki", keys.publicKey));
  return Buffer.from(publicKey.rawData).equals(ours);
}
