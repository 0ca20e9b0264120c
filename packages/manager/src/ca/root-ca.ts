// The cluster's CA as the store keeps it (a RootCA message: the root's certificate and key, a
// root rotation while one runs, revoked client certificates), and the loaded signer.
//
// Loading parses and checks the key, so it is done once per change of the stored CA, not per
// call: RootCaCache keeps the signer of the last RootCA it was asked about.
import { pki, RootCA, type Cluster, type RevokedCertificate } from "@shoal/shared";

/**
 * Where a cluster object keeps its RootCA. The wiring passes `(cluster) => cluster.rootCa` once
 * objects.proto has `Cluster.root_ca`; tests pass their own.
 */
export type RootCaOf = (cluster: Cluster) => RootCA | undefined;

export interface NewRootCaOptions {
  readonly clusterId: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Default 20 years. */
  readonly lifetimeMs?: number;
}

/** A new root CA for a new cluster: the message to store, and the CA to sign with now. */
export async function newRootCa(
  options: NewRootCaOptions,
): Promise<{ readonly rootCa: RootCA; readonly ca: pki.CertificateAuthority }> {
  const ca = await pki.CertificateAuthority.create(options);
  return { rootCa: rootCaMessage(ca), ca };
}

/** The stored form of a loaded CA (no rotation, nothing revoked). */
export function rootCaMessage(ca: pki.CertificateAuthority): RootCA {
  return RootCA.fromPartial({
    caCert: Buffer.from(ca.certPem),
    caKey: Buffer.from(ca.exportKeyPem()),
    caCertDigest: ca.digest,
  });
}

/** The digest join tokens must pin: the current root's (the old one, while a rotation runs). */
export function currentDigest(rootCa: RootCA): string {
  return rootCa.caCertDigest || pki.caDigest(text(rootCa.caCert));
}

/** Every root a node should trust now, PEM: the root, and the new root during a rotation. */
export function trustedRootsPem(rootCa: RootCA): string {
  const roots = [text(rootCa.caCert)];
  if (rootCa.rootRotation && rootCa.rootRotation.caCert.length > 0) roots.push(text(rootCa.rootRotation.caCert));
  return roots.map((pem) => pem.trim()).join("\n") + "\n";
}

/** The revocation entry of a serial number (hex, any case), if revoked. */
export function revocationOf(rootCa: RootCA | undefined, serialNumber: string): RevokedCertificate | undefined {
  const serial = serialNumber.toLowerCase();
  return rootCa?.revoked.find((r) => r.serialNumber.toLowerCase() === serial);
}

/** Loads the signer of a stored CA once per change of it. */
export class RootCaCache {
  #key: string | undefined;
  #signer: Promise<pki.CertificateAuthority> | undefined;

  /**
   * The CA that signs now: the root, or during a rotation the new root, whose issued chains then
   * carry the cross-signed certificate.
   */
  signer(rootCa: RootCA): Promise<pki.CertificateAuthority> {
    const rotation = rootCa.rootRotation;
    const rotating = rotation !== undefined && rotation.caCert.length > 0;
    const key = rotating ? `rotation:${pki.caDigest(text(rotation.caCert))}` : `root:${currentDigest(rootCa)}`;
    if (this.#key !== key || this.#signer === undefined) {
      this.#key = key;
      const loading = rotating
        ? pki.CertificateAuthority.load({
            certPem: text(rotation.caCert),
            keyPem: text(rotation.caKey),
            intermediatesPem: text(rotation.crossSignedCaCert),
          })
        : pki.CertificateAuthority.load({ certPem: text(rootCa.caCert), keyPem: text(rootCa.caKey) });
      // A CA that fails to load is not cached: the next call tries again.
      loading.catch(() => {
        if (this.#signer === loading) this.#signer = undefined;
      });
      this.#signer = loading;
    }
    return this.#signer;
  }
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8");
}
