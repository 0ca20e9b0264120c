// Docker's TLSInfo, of the swarm (GET /swarm, /info) and of each node (GET /nodes): the root
// certificate trusted (PEM) and the issuer of node certificates, as the base64 of its subject and
// of its public key (both DER). `docker swarm ca` prints TrustRoot; `docker swarm ca --rotate`
// counts the nodes whose issuer is already the swarm's.
import { pki, type RootCA } from "@shoal/shared";
import { isRotating } from "../ca/root-rotation.js";

export interface DockerTlsInfo {
  readonly TrustRoot?: string;
  readonly CertIssuerSubject?: string;
  readonly CertIssuerPublicKey?: string;
}

interface Issuer {
  readonly subject: string;
  readonly publicKey: string;
}

/** Roots are few (one, two during a rotation) and parsed on every node listing: kept here. */
const parsed = new Map<string, Issuer | undefined>();
const PARSED_LIMIT = 8;

function issuerOf(pem: string): Issuer | undefined {
  if (parsed.has(pem)) return parsed.get(pem);
  let issuer: Issuer | undefined;
  try {
    const cert = new pki.x509.X509Certificate(pem);
    issuer = {
      subject: Buffer.from(cert.subjectName.toArrayBuffer()).toString("base64"),
      publicKey: Buffer.from(cert.publicKey.rawData).toString("base64"),
    };
  } catch {
    issuer = undefined;
  }
  if (parsed.size >= PARSED_LIMIT) parsed.delete(parsed.keys().next().value!);
  parsed.set(pem, issuer);
  return issuer;
}

const text = (pem: Uint8Array): string => Buffer.from(pem).toString("utf8");

function tlsInfo(rootCa: RootCA, issuerPem: string): DockerTlsInfo {
  const issuer = issuerOf(issuerPem);
  return {
    TrustRoot: text(rootCa.caCert),
    ...(issuer ? { CertIssuerSubject: issuer.subject, CertIssuerPublicKey: issuer.publicKey } : {}),
  };
}

/**
 * The swarm's: the current root, and the issuer that certificates are signed by now (the new root
 * during a rotation, as SwarmKit shows it). Empty when the cluster has no CA yet.
 */
export function swarmTlsInfo(rootCa: RootCA | undefined): DockerTlsInfo {
  if (!rootCa || rootCa.caCert.length === 0) return {};
  const signing = isRotating(rootCa) ? rootCa.rootRotation!.caCert : rootCa.caCert;
  return tlsInfo(rootCa, text(signing));
}

/**
 * A node's: the current root, and the root that signed the node's certificate, known by its digest
 * (the new root once the node renewed during a rotation, else the current one).
 */
export function nodeTlsInfo(rootCa: RootCA | undefined, issuerDigest: string | undefined): DockerTlsInfo {
  if (!rootCa || rootCa.caCert.length === 0) return {};
  const rotation = rootCa.rootRotation;
  const renewed =
    issuerDigest !== undefined &&
    issuerDigest !== "" &&
    rotation !== undefined &&
    isRotating(rootCa) &&
    pki.caDigest(text(rotation.caCert)) === issuerDigest;
  return tlsInfo(rootCa, text(renewed ? rotation.caCert : rootCa.caCert));
}
