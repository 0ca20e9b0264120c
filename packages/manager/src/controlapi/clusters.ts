// Control API: the cluster object (its settings and join tokens).
import { randomBytes } from "node:crypto";
import {
  InvalidArgumentError,
  type Cluster,
  type GetClusterRequest,
  type GetClusterResponse,
  type ListClustersResponse,
  type UpdateClusterRequest,
  type UpdateClusterResponse,
} from "@shoal/shared";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { resolveRef } from "./resolve.js";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * A join token: SWMTKN-1-<cluster part>-<secret>, the shape Docker Swarm users know. The secret
 * (25 base-36 characters, 128 bits) is what admits a node; the first part names the cluster.
 * (With the cluster CA, the first part becomes the CA's digest.)
 */
export function newJoinToken(clusterId: string): string {
  const bytes = randomBytes(25);
  const secret = [...bytes].map((b) => ALPHABET[b % 36]).join("");
  return `SWMTKN-1-${clusterId}-${secret}`;
}

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

export function getCluster(store: MemoryStore, req: GetClusterRequest): GetClusterResponse {
  return { cluster: store.view((tx) => findCluster(tx, req.clusterId)) };
}

export function listClusters(store: MemoryStore): ListClustersResponse {
  return { clusters: store.view((tx) => tx.clusters.find()) };
}

export async function updateCluster(store: MemoryStore, req: UpdateClusterRequest): Promise<UpdateClusterResponse> {
  if (!req.clusterVersion) throw new InvalidArgumentError("is required", { field: "cluster_version" });
  const version = req.clusterVersion;
  const id = await store.update(
    (tx) => {
      const cluster = findCluster(tx, req.clusterId);
      const tokens = { worker: cluster.rootJoinTokens?.worker ?? "", manager: cluster.rootJoinTokens?.manager ?? "" };
      if (req.rotation?.worker) tokens.worker = newJoinToken(cluster.id);
      if (req.rotation?.manager) tokens.manager = newJoinToken(cluster.id);
      tx.clusters.update({
        ...cluster,
        meta: { ...cluster.meta!, version },
        spec: req.spec ?? cluster.spec,
        rootJoinTokens: tokens,
      });
      return cluster.id;
    },
    { pipelined: true },
  );
  return { cluster: store.view((tx) => tx.clusters.get(id)) };
}

export type JoinRole = "worker" | "manager";

/** Which role a join token admits, or undefined when it admits none (tokens are compared in full). */
export function tokenRole(cluster: Cluster | undefined, token: string): JoinRole | undefined {
  if (!cluster || token === "") return undefined;
  if (token === cluster.rootJoinTokens?.manager) return "manager";
  if (token === cluster.rootJoinTokens?.worker) return "worker";
  return undefined;
}
