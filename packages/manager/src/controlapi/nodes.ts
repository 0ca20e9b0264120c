// Control API: nodes. NodeCA creates them when a node joins, the leader for each manager of the
// Raft group (nodes/manager-node.ts); operators change their availability, labels and role
// (demotion), and remove those that are gone.
import {
  ErrorCode,
  InvalidArgumentError,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  ShoalError,
  compareNodesByHostname,
  type GetNodeRequest,
  type GetNodeResponse,
  type ListNodesRequest,
  type ListNodesResponse,
  type RaftMemberStatus,
  type RemoveNodeRequest,
  type RemoveNodeResponse,
  type UpdateNodeRequest,
  type UpdateNodeResponse,
} from "@shoal/shared";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { pendingDemotions, quorumRefusal } from "../nodes/manager-node.js";
import { matchesNodeFilters } from "./node-filters.js";
import { pageSpec, takePage } from "./paging.js";
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

/**
 * A page of the nodes that match the filters, in order of id (see paging.ts); a request without
 * page fields (a client from before paging) gets them all, by hostname as it did.
 */
export function listNodes(store: MemoryStore, req: ListNodesRequest): ListNodesResponse {
  const page = pageSpec(req, "node");
  const matches = (tx: ReadTx): Node[] => tx.nodes.find().filter((n) => matchesNodeFilters(n, req.filters));
  if (page === undefined) return { nodes: store.view(matches).sort(compareNodesByHostname) };
  const { items, nextPageToken } = store.view((tx) =>
    takePage(store, "node", page, {
      matches: () => tx.nodes.scan().filter((n) => matchesNodeFilters(n, req.filters)),
      get: (id) => {
        const n = tx.nodes.get(id);
        return n !== undefined && matchesNodeFilters(n, req.filters) ? n : undefined;
      },
      encodedSize: (n) => Node.encode(n).finish().length,
    }),
  );
  return { nodes: items, nextPageToken };
}

export function getNode(store: MemoryStore, req: GetNodeRequest): GetNodeResponse {
  return { node: store.view((tx) => findNode(tx, req.nodeId)) };
}

/**
 * `members`: the Raft group as the leader sees it (writes run on the leader), for the quorum check
 * of a demotion.
 */
export async function updateNode(
  store: MemoryStore,
  req: UpdateNodeRequest,
  members: () => readonly RaftMemberStatus[] = () => [],
): Promise<UpdateNodeResponse> {
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
    const desired = node.spec?.desiredRole ?? node.role;
    if (spec.desiredRole !== desired) checkRoleChange(tx, node, spec.desiredRole, members());
    tx.nodes.update({ ...node, meta: { ...node.meta!, version }, spec });
    return node.id;
  }, PIPELINED);
  return { node: store.view((tx) => tx.nodes.get(id)) };
}

/**
 * A role change the cluster can carry out, or an error saying why not. Promotion: the node's agent
 * starts a manager beside it, which joins the Raft group (so the node must be up, with an agent).
 * Demotion: the manager leaves the Raft group (the leader's manager-nodes component removes it,
 * handing leadership over first when it leads), so the managers that stay must keep a reachable
 * majority, counting the demotions already under way.
 */
function checkRoleChange(tx: ReadTx, node: Node, role: NodeRole, members: readonly RaftMemberStatus[]): void {
  const name = node.description?.hostname || node.id;
  if (role === NodeRole.MANAGER) {
    if (node.status?.state !== NodeState.READY || node.description?.engine === undefined) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `cannot promote node ${name}: it is not ready (its agent starts the manager beside it)`,
      );
    }
    return;
  }
  const self = members.find((m) => m.member?.nodeId === node.id);
  if (!self) return; // not in the Raft group (yet): nothing to leave
  const leaving = pendingDemotions(tx.nodes.find(), members).map((m) => m.member!.raftId);
  const refusal = quorumRefusal(members, [...leaving, self.member!.raftId]);
  if (refusal !== undefined) {
    throw new ShoalError(ErrorCode.FailedPrecondition, `cannot demote node ${name}: ${refusal}`);
  }
}

export async function removeNode(store: MemoryStore, req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
  await store.update((tx) => {
    const node = findNode(tx, req.nodeId);
    if (node.managerStatus !== undefined) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `node ${node.description?.hostname || node.id} is a manager of the Raft group: demote it first (shoal node demote)`,
      );
    }
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
