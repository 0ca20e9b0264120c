// Checks a peer's certificate chain against the cluster's root(s), then reads who it names.
//
// In production TLS (OpenSSL, under grpc-js) already checks the chain during the handshake; this
// check is for everything outside a handshake (a certificate a node receives from the CA before it
// writes it, the CLI's client directory, tests) and states the rules in one place: the leaf is in
// its validity period, is not a CA, allows the usage asked for, and chains through CA certificates
// (each in its validity period, within its path length) to one of the roots.
import { CertificateError } from "./errors.js";
import { identityOf, type CertIdentity, type CertRole } from "./identity.js";
import { pemBlocks, x509 } from "./x509.js";

export interface VerifyOptions {
  /** Trusted root certificates, PEM (each string may hold several). During a rotation: old and new. */
  readonly roots: readonly string[];
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Roles accepted; any when absent. */
  readonly roles?: readonly CertRole[];
  /** The cluster the certificate must name, when given. */
  readonly clusterId?: string;
  /** What the certificate is used for here: a client connecting, or a server answering. */
  readonly usage?: "client" | "server";
}

/** Intermediates followed at most (a rotation needs one). */
const MAX_INTERMEDIATES = 4;

/**
 * Verifies `chain` (PEM text with the leaf first, or DER certificates leaf first) and returns the
 * identity its leaf names. Throws CertificateError saying why it is refused.
 */
export async function verifyCertificateChain(
  chain: string | readonly Uint8Array[],
  options: VerifyOptions,
): Promise<CertIdentity> {
  const certs = parseAll(typeof chain === "string" ? pemBlocks(chain, "CERTIFICATE") : chain, "certificate chain");
  const roots = parseAll(
    options.roots.flatMap((pem) => pemBlocks(pem, "CERTIFICATE")),
    "root certificates",
  );
  const [leaf, ...intermediates] = certs;
  if (!leaf) throw new CertificateError("malformed", "the certificate chain is empty");
  if (roots.length === 0) throw new CertificateError("untrusted", "no root certificate to verify against");

  checkTime(leaf, options.now, "the certificate");
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new CertificateError("bad-usage", "a CA certificate cannot identify a node");
  }
  if (options.usage) checkUsage(leaf, options.usage);
  const identity = identityOf(leaf);

  let current = leaf;
  const used = new Set<x509.X509Certificate>();
  for (let below = 0; ; below++) {
    for (const root of roots) {
      if (await issuedBy(current, root)) {
        checkCa(root, below, options.now, "the root CA");
        return checkAllowed(identity, options);
      }
    }
    let next: x509.X509Certificate | undefined;
    for (const candidate of intermediates) {
      if (!used.has(candidate) && (await issuedBy(current, candidate))) {
        next = candidate;
        break;
      }
    }
    if (!next || below >= MAX_INTERMEDIATES) {
      throw new CertificateError(
        "untrusted",
        `the certificate of ${identity.nodeId} is not signed by this cluster's CA`,
        {
          details: { issuer: current.issuer },
        },
      );
    }
    checkCa(next, below, options.now, "an intermediate CA");
    used.add(next);
    current = next;
  }
}

function parseAll(ders: readonly Uint8Array[], what: string): x509.X509Certificate[] {
  try {
    return ders.map((der) => new x509.X509Certificate(der));
  } catch (err: unknown) {
    throw new CertificateError("malformed", `the ${what} cannot be parsed`, { cause: err });
  }
}

function checkTime(cert: x509.X509Certificate, now: number, what: string): void {
  if (now < cert.notBefore.getTime()) {
    throw new CertificateError("not-yet-valid", `${what} is valid only from ${cert.notBefore.toISOString()}`);
  }
  if (now > cert.notAfter.getTime()) {
    throw new CertificateError("expired", `${what} expired at ${cert.notAfter.toISOString()}`);
  }
}

function checkUsage(leaf: x509.X509Certificate, usage: "client" | "server"): void {
  const wanted = usage === "client" ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const usages = leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  if (!usages.includes(wanted)) {
    throw new CertificateError("bad-usage", `the certificate does not allow ${usage} authentication`);
  }
}

/** A CA certificate above `below` intermediates: a CA, allowed to sign, within its path length. */
function checkCa(ca: x509.X509Certificate, below: number, now: number, what: string): void {
  checkTime(ca, now, what);
  const constraints = ca.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new CertificateError("not-a-ca", `${what} ${ca.subject} is not a CA`);
  if (constraints.pathLength !== undefined && below > constraints.pathLength) {
    throw new CertificateError(
      "untrusted",
      `${what} ${ca.subject} allows ${constraints.pathLength} intermediates below it`,
    );
  }
}

/** Whether `issuer` signed `child`: names and key ids agree, `issuer` may sign certificates, and the signature holds. */
async function issuedBy(child: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (child.issuer !== issuer.subject) return false;
  const aki = child.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (aki !== undefined && ski !== undefined && aki !== ski) return false;
  const usage = issuer.getExtension(x509.KeyUsagesExtension);
  if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) return false;
  try {
    return await child.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

function checkAllowed(identity: CertIdentity, options: VerifyOptions): CertIdentity {
  if (options.clusterId !== undefined && identity.clusterId !== options.clusterId) {
    throw new CertificateError("wrong-cluster", `the certificate is for cluster ${identity.clusterId}`);
  }
  if (options.roles && !options.roles.includes(identity.role)) {
    throw new CertificateError(
      "wrong-role",
      `a ${identity.role} certificate may not do this (needs ${options.roles.join(" or ")})`,
    );
  }
  return identity;
}
