// What the first manager does at `init`, before it serves: a new root CA, its own manager
// certificate, join tokens that pin the CA, and an admin client certificate for the CLI. The
// caller stores `rootCa` and `joinTokens` in the cluster object (ensureCluster) and serves with
// `material`.
import { join } from "node:path";
import { pki, writeCertFiles, TlsMaterial, type RootCA, type TlsFiles } from "@shoal/shared";
import { newRootCa } from "./root-ca.js";

/** DATA_DIR/certificates/: a node's own ca.pem, cert.pem, key.pem. */
export const NODE_CERT_DIR = "certificates";
/** DATA_DIR/client/: the admin client certificate for the CLI (SHOAL_TLS_DIR). */
export const CLIENT_CERT_DIR = "client";
/** The admin client certificate's name (its CN). */
export const ADMIN_CLIENT_NAME = "admin";
/** Client certificates last a year unless asked otherwise: they are not renewed by themselves. */
export const DEFAULT_CLIENT_CERT_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

export interface InitClusterCaOptions {
  readonly clusterId: string;
  /** This manager's node id. */
  readonly nodeId: string;
  readonly dataDir: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** More names for the manager's certificate (its advertised addresses, for the Docker API). */
  readonly hosts?: readonly string[];
  readonly nodeCertLifetimeMs?: number;
  readonly clientCertLifetimeMs?: number;
}

export interface ClusterCa {
  /** To store in the cluster object. */
  readonly rootCa: RootCA;
  /** New tokens pinning the new CA, to store in the cluster object. */
  readonly joinTokens: pki.JoinTokens;
  /** This manager's material, also written to DATA_DIR/certificates/. */
  readonly material: TlsMaterial;
  /** The admin client's files, also written to DATA_DIR/client/. */
  readonly admin: TlsFiles;
}

export async function initClusterCa(options: InitClusterCaOptions): Promise<ClusterCa> {
  const { rootCa, ca } = await newRootCa({ clusterId: options.clusterId, now: options.now });
  const own = await issueFiles(ca, {
    nodeId: options.nodeId,
    role: "manager",
    clusterId: options.clusterId,
    now: options.now,
    ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
    ...(options.nodeCertLifetimeMs !== undefined ? { lifetimeMs: options.nodeCertLifetimeMs } : {}),
  });
  await writeCertFiles(join(options.dataDir, NODE_CERT_DIR), own);
  const admin = await writeClientCertificate(join(options.dataDir, CLIENT_CERT_DIR), ca, {
    name: ADMIN_CLIENT_NAME,
    clusterId: options.clusterId,
    now: options.now,
    lifetimeMs: options.clientCertLifetimeMs ?? DEFAULT_CLIENT_CERT_LIFETIME_MS,
  });
  return {
    rootCa,
    joinTokens: { worker: pki.newJoinToken(ca.digest), manager: pki.newJoinToken(ca.digest) },
    material: new TlsMaterial(own),
    admin,
  };
}

export interface ClientCertificateOptions {
  readonly name: string;
  readonly clusterId: string;
  readonly now: number;
  readonly lifetimeMs?: number;
  /** Roots to write as ca.pem; default the signer's certificate. */
  readonly rootsPem?: string;
}

/**
 * Issues a client certificate (CN name, OU shoal-client) with a key made here and writes the
 * trio into `dir` (0700, files 0600: readable by the manager's user, root, only). For the admin
 * directory at init; `shoal cluster client-cert` makes its key on the CLI's side instead.
 */
export async function writeClientCertificate(
  dir: string,
  ca: pki.CertificateAuthority,
  options: ClientCertificateOptions,
): Promise<TlsFiles> {
  const files = await issueFiles(ca, {
    nodeId: options.name,
    role: "client",
    clusterId: options.clusterId,
    now: options.now,
    lifetimeMs: options.lifetimeMs ?? DEFAULT_CLIENT_CERT_LIFETIME_MS,
  });
  const written = options.rootsPem === undefined ? files : { ...files, caPem: options.rootsPem };
  await writeCertFiles(dir, written);
  return written;
}

async function issueFiles(ca: pki.CertificateAuthority, options: pki.IssueOptions): Promise<TlsFiles> {
  const { keyPem, csrPem } = await pki.createKeyAndCsr();
  const { certChainPem } = await ca.issue(csrPem, options);
  return { caPem: ca.certPem, certChainPem, keyPem };
}
