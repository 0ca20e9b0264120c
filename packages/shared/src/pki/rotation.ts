// Root CA rotation with a cross-signed transition, as SwarmKit does it:
//
// 1. start: a new root (new key) is made, and cross-signed by the old root. The CA now signs with
//    the new key and sends the cross-signed copy with every certificate, so that nodes that still
//    trust only the old root accept the new certificates; nodes trust both roots.
// 2. every node renews (at once, not at its usual time) and so gets a certificate from the new key.
// 3. finish: once every node holds one, the new root alone is trusted and the tokens pin it.
import { CertificateAuthority } from "./certificate-authority.js";

export interface RootRotation {
  /** Signs with the new key; its issued chains carry the cross-signed certificate. */
  readonly signer: CertificateAuthority;
  /** The new root, signed by the old root's key. */
  readonly crossSignedPem: string;
  /** What every node trusts during the rotation: the old root and the new one. */
  readonly trustedRootsPem: string;
}

export interface StartRotationOptions {
  readonly clusterId: string;
  readonly now: number;
  readonly lifetimeMs?: number;
}

/** Step 1: a new root, cross-signed by `current`, and the signer to use until the rotation ends. */
export async function startRootRotation(
  current: CertificateAuthority,
  options: StartRotationOptions,
): Promise<RootRotation> {
  const fresh = await CertificateAuthority.create(options);
  const crossSignedPem = await current.crossSign(fresh.certPem, options.now);
  const signer = await CertificateAuthority.load({
    certPem: fresh.certPem,
    keyPem: fresh.exportKeyPem(),
    intermediatesPem: crossSignedPem,
  });
  return { signer, crossSignedPem, trustedRootsPem: `${current.certPem}\n${fresh.certPem}` };
}

/** Step 3: the new root alone, signing without the cross-signed certificate. */
export function finishRootRotation(rotation: RootRotation): Promise<CertificateAuthority> {
  return CertificateAuthority.load({ certPem: rotation.signer.certPem, keyPem: rotation.signer.exportKeyPem() });
}
