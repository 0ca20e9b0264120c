// /nodes: list (filters id, name, label, role), inspect, update (with the version read), delete.
// A manager whose node the leader has not made yet is inspected by its id (manager-nodes.ts).
import { ErrorCode, InvalidArgumentError, NodeRole, isShoalError, type Node, type RootCA } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import { allNodes } from "./control-calls.js";
import { NODE_SPEC_SHAPE, type DockerNodeSpec } from "./docker-types.js";
import { matchesLabels, matchesPrefix, parseFilters } from "./filters.js";
import { decodeShape, withoutQueryFields } from "./json-shape.js";
import { managerNode } from "./manager-nodes.js";
import { fromDockerNodeSpec, toDockerNode } from "./objects.js";
import type { DockerRequest, Handler } from "./router.js";

const NODE_FILTERS = ["id", "name", "label", "node.label", "role", "membership"];

/** `?version=N`, required on updates; Docker's wording when it is missing or malformed. */
export function versionParam(req: DockerRequest, kind: string): { index: number } {
  const raw = req.query.get("version") ?? "";
  const index = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(index)) {
    throw new InvalidArgumentError(`invalid ${kind} version '${raw}': not a whole number`, { field: "version" });
  }
  return { index };
}

export function isTrue(value: string | null): boolean {
  return value === "1" || value === "true" || value === "True";
}

function nodeMatches(node: Node, f: ReturnType<typeof parseFilters>): boolean {
  const names = f.get("name");
  if (
    names &&
    !names.some((n) => (node.description?.hostname ?? "").startsWith(n) || node.spec?.annotations?.name === n)
  )
    return false;
  if (!matchesPrefix(node.id, f.get("id"))) return false;
  if (!matchesLabels(node.spec?.annotations?.labels, f.get("node.label") ?? f.get("label"))) return false;
  const roles = f.get("role");
  if (roles && !roles.includes(node.role === NodeRole.MANAGER ? "manager" : "worker")) return false;
  const membership = f.get("membership");
  if (membership && !membership.includes("accepted")) return false;
  return true;
}

/** The cluster's CA, for the nodes' TLSInfo. */
async function rootCaOf(ctx: DockerApiContext): Promise<RootCA | undefined> {
  return (await ctx.control.call("listClusters", {})).clusters[0]?.rootCa;
}

export function nodeHandlers(ctx: DockerApiContext): Record<string, Handler> {
  return {
    list: async (req) => {
      const filters = parseFilters(req.query.get("filters"), NODE_FILTERS);
      const [nodes, rootCa] = await Promise.all([allNodes(ctx.control), rootCaOf(ctx)]);
      return { status: 200, json: nodes.filter((n) => nodeMatches(n, filters)).map((n) => toDockerNode(n, rootCa)) };
    },
    inspect: async (req) => {
      const ref = req.params["id"]!;
      const nodeId = ref === "self" ? ctx.nodeId : ref;
      try {
        const { node } = await ctx.control.call("getNode", { nodeId });
        return { status: 200, json: toDockerNode(node!, await rootCaOf(ctx)) };
      } catch (err: unknown) {
        if (!isShoalError(err) || err.code !== ErrorCode.NotFound) throw err;
        const manager = await managerNode(ctx, nodeId, await rootCaOf(ctx));
        if (!manager) throw err;
        return { status: 200, json: manager };
      }
    },
    update: async (req) => {
      const nodeVersion = versionParam(req, "node");
      const spec = fromDockerNodeSpec(
        decodeShape(withoutQueryFields(await req.json(), ["version"]), NODE_SPEC_SHAPE) as DockerNodeSpec,
      );
      await ctx.control.call("updateNode", { nodeId: req.params["id"]!, nodeVersion, spec });
      return { status: 200 };
    },
    remove: async (req) => {
      await ctx.control.call("removeNode", { nodeId: req.params["id"]!, force: isTrue(req.query.get("force")) });
      return { status: 200 };
    },
  };
}
