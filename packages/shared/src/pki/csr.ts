// What a node makes before it asks for a certificate: a key that never leaves it, and a PKCS#10
// request that proves it holds that key. The CA decides the subject; the request's is ignored.
import type { webcrypto } from "node:crypto";
import { CertificateError } from "./errors.js";
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from "./keys.js";
import { EC_ALGORITHM, x509 } from "./x509.js";

export interface KeyAndCsr {
  /** PKCS#8 PEM; written to the node's data dir (mode 0600), never sent. */
  readonly keyPem: string;
  /** PKCS#10 PEM, sent to the CA with the join token (or over mTLS, to renew). */
  readonly csrPem: string;
}

/** A new key and a request for it; with `keyPem`, a new request for that key (to renew without a new key). */
export async function createKeyAndCsr(keyPem?: string): Promise<KeyAndCsr> {
  const keys = keyPem === undefined ? await generateKeyPair() : await importPrivateKeyPem(keyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: ["shoal-node"] }],
    keys,
    signingAlgorithm: EC_ALGORITHM,
  });
  return { keyPem: keyPem ?? (await exportPrivateKeyPem(keys.privateKey)), csrPem: csr.toString("pem") };
}

/**
 * Parses a request and checks it: well formed, for a P-256 ECDSA key, and signed by that key
 * (proof that the sender holds the private key). Returns the request, whose public key the CA
 * certifies.
 */
export async function readCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err: unknown) {
    throw new CertificateError("malformed", "the certificate request cannot be parsed", { cause: err });
  }
  const algorithm = csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    throw new CertificateError("malformed", "the certificate request must be for a P-256 ECDSA key");
  }
  let signed: boolean;
  try {
    signed = await csr.verify();
  } catch (err: unknown) {
    throw new CertificateError("malformed", "the certificate request's signature cannot be checked", { cause: err });
  }
  if (!signed) throw new CertificateError("malformed", "the certificate request is not signed by its own key");
  return csr;
}
