// Who a certificate names: the node id (CN), its role (OU) and the cluster (O), as SwarmKit does.
import { CertificateError } from "./errors.js";
import { x509 } from "./x509.js";

/** What a certificate lets its holder be: a worker, a manager, or a client of the Control API. */
export type CertRole = "worker" | "manager" | "client";

/** The OU each role is written as; worker and manager are SwarmKit's names. */
export const ROLE_OU: Readonly<Record<CertRole, string>> = {
  worker: "swarm-worker",
  manager: "swarm-manager",
  client: "shoal-client",
};

/**
 * The DNS name every manager certificate carries: agents, managers and the CLI verify a manager
 * against it (grpc's ssl_target_name_override), not against its address, which can change.
 */
export const MANAGER_SERVER_NAME = ROLE_OU.manager;

export interface CertSubject {
  /** The node id (or, for a client certificate, the client's name). */
  readonly nodeId: string;
  readonly role: CertRole;
  readonly clusterId: string;
}

export interface CertIdentity extends CertSubject {
  /** Hex serial number, to revoke a client certificate or log which one was used. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Key id of the issuing CA (the authority key identifier), when the certificate has one. */
  readonly issuerKeyId: string | undefined;
}

/** The subject name for a node or client certificate. */
export function subjectName(subject: CertSubject): x509.Name {
  return new x509.Name([{ CN: [subject.nodeId] }, { OU: [ROLE_OU[subject.role]] }, { O: [subject.clusterId] }]);
}

function roleOf(ou: string | undefined): CertRole | undefined {
  for (const [role, name] of Object.entries(ROLE_OU)) if (name === ou) return role as CertRole;
  return undefined;
}

/** Reads the identity out of a certificate; it does not check who signed it (see verify.ts). */
export function identityOf(cert: x509.X509Certificate): CertIdentity {
  const name = cert.subjectName;
  const one = (field: string): string | undefined => {
    const values = name.getField(field);
    return values.length === 1 ? values[0] : undefined;
  };
  const nodeId = one("CN");
  const role = roleOf(one("OU"));
  const clusterId = one("O");
  if (!nodeId || !role || !clusterId) {
    throw new CertificateError(
      "malformed",
      `certificate subject "${cert.subject}" does not name a node, role and cluster`,
    );
  }
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    nodeId,
    role,
    clusterId,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    issuerKeyId: aki?.keyId,
  };
}

/**
 * The identity in a peer's leaf certificate (DER, as grpc-js's getAuthContext().sslPeerCertificate.raw
 * gives it). Only for a peer whose chain TLS has already verified against the cluster's roots.
 */
export function peerIdentity(der: Uint8Array): CertIdentity {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch (err: unknown) {
    throw new CertificateError("malformed", "the peer certificate cannot be parsed", { cause: err });
  }
  return identityOf(cert);
}
