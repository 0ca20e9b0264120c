// Control API: nodes. Agents create them (dispatcher); operators change their availability and
// labels, and remove those that are gone.
import {
  ErrorCode,
  InvalidArgumentError,
  NodeAvailability,
  NodeRole,
  NodeState,
  ShoalError,
  type GetNodeRequest,
  type GetNodeResponse,
  type ListNodesRequest,
  type ListNodesResponse,
  type Node,
  type RemoveNodeRequest,
  type RemoveNodeResponse,
  type UpdateNodeRequest,
  type UpdateNodeResponse,
} from "@shoal/shared";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { matchesNodeFilters } from "./node-filters.js";
import { resolveRef } from "./resolve.js";

const PIPELINED = { pipelined: true } as const;
const LABEL_KEY = /^[a-zA-Z0-9]([a-zA-Z0-9._/-]*[a-zA-Z0-9])?$/;

export function findNode(tx: ReadTx, ref: string): Node {
  return resolveRef(
    "node",
    ref,
    (id) => tx.nodes.get(id),
    (name) => tx.nodes.find({ name })[0],
    (prefix) => tx.nodes.find({ idPrefix: prefix }),
  );
}

export function listNodes(store: MemoryStore, req: ListNodesRequest): ListNodesResponse {
  const nodes = store.view((tx) => tx.nodes.find()).filter((n) => matchesNodeFilters(n, req.filters));
  nodes.sort((a, b) => (a.description?.hostname ?? "").localeCompare(b.description?.hostname ?? ""));
  return { nodes };
}

export function getNode(store: MemoryStore, req: GetNodeRequest): GetNodeResponse {
  return { node: store.view((tx) => findNode(tx, req.nodeId)) };
}

export async function updateNode(store: MemoryStore, req: UpdateNodeRequest): Promise<UpdateNodeResponse> {
  if (!req.spec) throw new InvalidArgumentError("is required", { field: "spec" });
  if (!req.nodeVersion) throw new InvalidArgumentError("is required", { field: "node_version" });
  if (!(req.spec.availability in NodeAvailability) || req.spec.availability < 0) {
    throw new InvalidArgumentError(`unknown availability ${req.spec.availability}`, { field: "spec.availability" });
  }
  if (!Number.isInteger(req.spec.desiredRole) || typeof NodeRole[req.spec.desiredRole] !== "string") {
    throw new InvalidArgumentError(`unknown role ${req.spec.desiredRole}`, { field: "spec.desired_role" });
  }
  for (const key of Object.keys(req.spec.annotations?.labels ?? {})) {
    if (!LABEL_KEY.test(key))
      throw new InvalidArgumentError(`"${key}" is not a valid label key`, { field: "spec.annotations.labels" });
  }
  const version = req.nodeVersion;
  const spec = req.spec;
  const id = await store.update((tx) => {
    const node = findNode(tx, req.nodeId);
    // Promotion and demotion are not built: a role other than the node's is refused, not ignored.
    if (spec.desiredRole !== node.role && spec.desiredRole !== node.spec?.desiredRole) {
      throw new InvalidArgumentError(
        `changing a node's role (to ${NodeRole[spec.desiredRole]}) is not supported; its role is ${NodeRole[node.spec?.desiredRole ?? node.role]}`,
        { field: "spec.desired_role" },
      );
    }
    tx.nodes.update({
      ...node,
      meta: { ...node.meta!, version },
      spec: { ...spec, desiredRole: node.spec?.desiredRole ?? spec.desiredRole },
    });
    return node.id;
  }, PIPELINED);
  return { node: store.view((tx) => tx.nodes.get(id)) };
}

export async function removeNode(store: MemoryStore, req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
  await store.update((tx) => {
    const node = findNode(tx, req.nodeId);
    const state = node.status?.state ?? NodeState.UNKNOWN;
    if (!req.force && state !== NodeState.DOWN) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `node ${node.description?.hostname ?? node.id} is not down and cannot be removed; use --force to remove it anyway`,
      );
    }
    tx.nodes.delete(node.id);
  }, PIPELINED);
  return {};
}
