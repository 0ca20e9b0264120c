// GET /images/{name}/json: `docker image inspect` (and docker-py's images.get, which its
// images.pull calls after pulling) against a manager, for the cluster as one machine: the image as
// the ready nodes' engines have it, through the Control API's InspectImage. The answer is the
// inspect object of the first node (by node id, so that it does not depend on who answered first)
// whose engine has the image, exactly as that engine returned it; Docker's 404 when none has it.
import { ErrorCode, ShoalError, type InspectImageNode } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import type { DockerRequest, Reply } from "./router.js";

export async function inspectImage(ctx: DockerApiContext, req: DockerRequest): Promise<Reply> {
  const name = req.params["name"]!;
  const { nodes } = await ctx.control.call("inspectImage", { image: name, timeout: undefined });
  const found = chooseImage(nodes);
  if (found !== undefined) return { status: 200, json: found };
  const failed = nodes.filter((n) => n.error !== "");
  if (nodes.length > 0 && failed.length === nodes.length) {
    // No engine said it lacks the image: that is not Docker's "no such image".
    const why = failed.map((n) => `${n.node?.hostname || n.node?.nodeId || "?"}: ${n.error}`).join("; ");
    throw new ShoalError(ErrorCode.Unavailable, `no node could inspect image ${name}: ${why}`);
  }
  return { status: 404, json: { message: `No such image: ${name}` } };
}

/** The inspect object of the first node, by node id, whose engine has the image. */
export function chooseImage(nodes: readonly InspectImageNode[]): unknown {
  const have = nodes
    .filter((n) => n.imageJson !== "")
    .sort((a, b) => compare(a.node?.nodeId ?? "", b.node?.nodeId ?? ""));
  for (const n of have) {
    try {
      return JSON.parse(n.imageJson) as unknown;
    } catch {
      continue; // not an engine's answer: the next node's
    }
  }
  return undefined;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
