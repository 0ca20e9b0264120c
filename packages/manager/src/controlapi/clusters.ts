// Control API: the cluster object (its settings, join tokens and CA) and client certificates.
//
// The CA's keys never leave the store through this API: Get/List/Update answers carry the
// cluster with root_ca.ca_key (and a rotation's) blanked, and without the dashboard's credentials
// (UpdateCluster keeps them: a client never writes them).
import {
  InvalidArgumentError,
  RootCA,
  ShoalError,
  ErrorCode,
  durationToMs,
  leafIdentity,
  pki,
  type Cluster,
  type GetClusterRequest,
  type GetClusterResponse,
  type IssueClientCertificateRequest,
  type IssueClientCertificateResponse,
  type ListClustersResponse,
  type RevokeClientCertificateRequest,
  type RevokeClientCertificateResponse,
  type UpdateClusterRequest,
  type UpdateClusterResponse,
} from "@shoal/shared";
import { DEFAULT_CLIENT_CERT_LIFETIME_MS } from "../ca/cluster-init.js";
import type { RootCaCache } from "../ca/root-ca.js";
import { currentDigest, trustedRootsPem } from "../ca/root-ca.js";
import { startRotation } from "../ca/root-rotation.js";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { resolveRef } from "./resolve.js";
import { unlockKeyFor } from "./unlock-key.js";
import { MIN_NODE_CERT_EXPIRY_MS, clusterSpecFor, validateClusterSpec } from "./validate-cluster.js";

export { MIN_NODE_CERT_EXPIRY_MS };

export function findCluster(tx: ReadTx, ref: string): Cluster {
  const all = tx.clusters.find();
  if (ref === "" && all.length === 1) return all[0]!;
  return resolveRef(
    "cluster",
    ref,
    (id) => tx.clusters.get(id),
    (name) => tx.clusters.find({ name })[0],
    (prefix) => tx.clusters.find({ idPrefix: prefix }),
  );
}

/**
 * The cluster as the API shows it: the CA's private keys, the unlock key and the dashboard's
 * credentials blanked.
 */
export function redacted(cluster: Cluster): Cluster;
export function redacted(cluster: Cluster | undefined): Cluster | undefined;
export function redacted(cluster: Cluster | undefined): Cluster | undefined {
  if (!cluster) return cluster;
  const empty = new Uint8Array(0);
  const rootCa = cluster.rootCa;
  if (!rootCa) return { ...cluster, unlockKey: empty, dashboardCredentials: [] };
  return {
    ...cluster,
    unlockKey: empty,
    dashboardCredentials: [],
    rootCa: {
      ...rootCa,
      caKey: empty,
      ...(rootCa.rootRotation ? { rootRotation: { ...rootCa.rootRotation, caKey: empty } } : {}),
    },
  };
}

export function getCluster(store: MemoryStore, req: GetClusterRequest): GetClusterResponse {
  return { cluster: redacted(store.view((tx) => findCluster(tx, req.clusterId))) };
}

export function listClusters(store: MemoryStore): ListClustersResponse {
  return { clusters: store.view((tx) => tx.clusters.find()).map((c) => redacted(c)) };
}

/** `now` dates the new root of a rotation. */
export async function updateCluster(
  store: MemoryStore,
  req: UpdateClusterRequest,
  now: number,
): Promise<UpdateClusterResponse> {
  if (!req.clusterVersion) throw new InvalidArgumentError("is required", { field: "cluster_version" });
  if (req.spec) validateClusterSpec(req.spec);
  // A root rotation starts with a new root cross-signed by the current one (signing happens
  // here, outside the transaction); the cluster's version, checked in it, keeps it current.
  let rotated: RootCA | undefined;
  if (req.rotation?.rootCa) {
    const current = store.view((tx) => findCluster(tx, req.clusterId));
    if (!current.rootCa || current.rootCa.caCert.length === 0) {
      throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster has no certificate authority yet");
    }
    rotated = await startRotation(current.rootCa, current.id, now);
  }
  const version = req.clusterVersion;
  const id = await store.update(
    (tx) => {
      const cluster = findCluster(tx, req.clusterId);
      const spec = req.spec ? clusterSpecFor(cluster, req.spec) : cluster.spec;
      const tokens = { worker: cluster.rootJoinTokens?.worker ?? "", manager: cluster.rootJoinTokens?.manager ?? "" };
      // Tokens pin the CA that admits with them: the current root's digest.
      const digest = cluster.rootCa ? currentDigest(cluster.rootCa) : "";
      if (req.rotation?.worker) tokens.worker = pki.newJoinToken(digest);
      if (req.rotation?.manager) tokens.manager = pki.newJoinToken(digest);
      tx.clusters.update({
        ...cluster,
        meta: { ...cluster.meta!, version },
        spec,
        rootJoinTokens: tokens,
        // Autolock turned on: a new unlock key; off: none (see unlock-key.ts).
        unlockKey: unlockKeyFor(cluster, spec),
        ...(rotated ? { rootCa: rotated } : {}),
      });
      return cluster.id;
    },
    { pipelined: true },
  );
  return { cluster: redacted(store.view((tx) => tx.clusters.get(id))) };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * A client certificate (OU shoal-client) for the request's key, recorded in root_ca.clients so
 * that it can be revoked by name. On the leader (a write).
 */
export async function issueClientCertificate(
  store: MemoryStore,
  cache: RootCaCache,
  req: IssueClientCertificateRequest,
  now: number,
): Promise<IssueClientCertificateResponse> {
  if (!NAME.test(req.name)) {
    throw new InvalidArgumentError("must be 1-63 letters, digits, '.', '_' or '-'", { field: "name" });
  }
  if (req.csr.length === 0) throw new InvalidArgumentError("is required", { field: "csr" });
  const lifetimeMs = req.lifetime ? durationToMs(req.lifetime, 0) : DEFAULT_CLIENT_CERT_LIFETIME_MS;
  if (lifetimeMs < MIN_NODE_CERT_EXPIRY_MS) {
    throw new InvalidArgumentError("must be at least 1 minute", { field: "lifetime" });
  }
  const cluster = store.view((tx) => tx.clusters.find()[0]);
  const rootCa = cluster?.rootCa;
  if (!cluster || !rootCa) throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster has no CA yet");
  const signer = await cache.signer(rootCa);
  let issued: pki.IssuedCertificate;
  try {
    issued = await signer.issue(Buffer.from(req.csr).toString("utf8"), {
      nodeId: req.name,
      role: "client",
      clusterId: cluster.id,
      now,
      lifetimeMs,
    });
  } catch (err: unknown) {
    if (err instanceof pki.CertificateError) throw new InvalidArgumentError(err.message, { field: "csr", cause: err });
    throw err;
  }
  const identity = leafIdentity(issued.certChainPem);
  await store.update((tx) => {
    const c = tx.clusters.get(cluster.id);
    if (!c?.rootCa) return;
    const alive = c.rootCa.clients.filter((e) => (e.notAfter?.getTime() ?? 0) > now);
    tx.clusters.update({
      ...c,
      rootCa: RootCA.fromPartial({
        ...c.rootCa,
        clients: [...alive, { serialNumber: identity.serialNumber, name: req.name, notAfter: identity.notAfter }],
      }),
    });
  });
  return {
    certificateChain: Buffer.from(issued.certChainPem),
    caCert: Buffer.from(trustedRootsPem(rootCa)),
    serialNumber: identity.serialNumber,
  };
}

/** Revokes every unexpired client certificate issued under the name. On the leader (a write). */
export async function revokeClientCertificate(
  store: MemoryStore,
  req: RevokeClientCertificateRequest,
  now: number,
): Promise<RevokeClientCertificateResponse> {
  if (req.name === "") throw new InvalidArgumentError("is required", { field: "name" });
  const revoked = await store.update((tx) => {
    const c = tx.clusters.find()[0];
    if (!c?.rootCa) throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster has no CA yet");
    const alive = (e: { notAfter?: Date | undefined }): boolean => (e.notAfter?.getTime() ?? 0) > now;
    const hits = c.rootCa.clients.filter((e) => e.name === req.name && alive(e));
    if (hits.length === 0) throw new ShoalError(ErrorCode.NotFound, `no client certificate named ${req.name}`);
    tx.clusters.update({
      ...c,
      rootCa: RootCA.fromPartial({
        ...c.rootCa,
        clients: c.rootCa.clients.filter((e) => e.name !== req.name && alive(e)),
        revoked: [...c.rootCa.revoked.filter(alive), ...hits],
      }),
    });
    return hits.length;
  });
  return { revoked };
}
