// The Control API as far as this version serves it: cluster info and nodes. Methods not listed
// here answer UNIMPLEMENTED (grpc-js's default for a missing handler).
import type * as grpc from "@grpc/grpc-js";
import {
  NotFoundError,
  toServiceError,
  type ControlServer,
  type GetInfoResponse,
  type ListNodesRequest,
  type Node,
} from "@shoal/shared";
import type { NodeRegistry } from "../dispatcher/node-registry.js";
import { matchesNodeFilters } from "./node-filters.js";

export interface ControlOptions {
  readonly clusterId: string;
  readonly nodeId: string;
  readonly registry: NodeRegistry;
}

export function controlHandlers(options: ControlOptions): Partial<ControlServer> {
  const { registry } = options;
  return {
    getInfo: unary((): GetInfoResponse => ({
      clusterId: options.clusterId,
      nodeId: options.nodeId,
      leaderAddr: "",
      isLeader: true,
      raft: undefined,
    })),
    listNodes: unary((request: ListNodesRequest) => ({
      nodes: registry.list().filter((node) => matchesNodeFilters(node, request.filters)),
    })),
    getNode: unary((request: { nodeId: string }) => ({ node: findNode(registry, request.nodeId) })),
  };
}

/** A node by id, id prefix or hostname, as `docker node inspect` accepts. */
function findNode(registry: NodeRegistry, ref: string): Node {
  const nodes = registry.list();
  const exact = nodes.find((n) => n.id === ref) ?? nodes.find((n) => n.description?.hostname === ref);
  if (exact) return exact;
  const byPrefix = ref === "" ? [] : nodes.filter((n) => n.id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  throw new NotFoundError("node", ref);
}

function unary<Req, Res>(fn: (request: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (err: unknown) {
      callback(toServiceError(err));
    }
  };
}
