// When an agent renews its certificate because of what its session says about the cluster's CA
// (SessionResponse.root_ca_digest and renew_certificate; see the manager's dispatcher/ca-signal.ts):
//
// - renew_certificate: at once (a root rotation runs and the certificate is from the old key);
// - root_ca_digest changed since the last message (a rotation finished): renewing also replaces
//   the roots the node trusts with the current one alone;
// - the first message this process sees: when the roots it trusts are not exactly that root (it
//   was down when a rotation finished). During a rotation this renews once more than needed.
// An empty digest (a manager without a CA) asks for nothing.
import { pki } from "@shoal/shared";

export interface SessionCaSignal {
  readonly rootCaDigest: string;
  readonly renewCertificate: boolean;
}

/** The digests of the certificates of a PEM bundle, sorted. */
export function bundleDigests(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => pki.caDigest(b)).sort();
}

export class RenewalTrigger {
  #last: string | undefined;

  /** Whether to renew now, given a session message and the roots (PEM) trusted now. */
  shouldRenew(signal: SessionCaSignal, trustedRootsPem: string): boolean {
    const digest = signal.rootCaDigest;
    if (digest === "") return false;
    const last = this.#last;
    this.#last = digest;
    if (signal.renewCertificate) return true;
    if (last === undefined) {
      const trusted = bundleDigests(trustedRootsPem);
      return trusted.length !== 1 || trusted[0] !== digest;
    }
    return last !== digest;
  }
}
