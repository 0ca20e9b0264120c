// A manager as GET /nodes/{id} shows it in the moment before the leader has made its node in the
// store (managers are nodes: nodes/manager-node.ts; a manager just founded or joined gets its node
// at the leader's next pass): `docker node inspect self` and `docker swarm join-token`, which
// prints the ManagerStatus.Addr of `self`, read the serving manager as a node. The view is made
// from the Raft membership; only the serving manager knows its own host. It has no store version,
// and no dates.
import { cpus, hostname, totalmem } from "node:os";
import { Reachability, type RaftMemberStatus, type RootCA } from "@shoal/shared";
import { signingDigest } from "../ca/root-rotation.js";
import type { DockerApiContext } from "./context.js";
import { kernelArch } from "./host.js";
import { reachabilityName } from "./objects.js";
import { nodeTlsInfo } from "./tls-info.js";

const STATE_BY_REACHABILITY = new Map([
  [Reachability.REACHABLE, "ready"],
  [Reachability.UNREACHABLE, "down"],
]);

/** The Docker node of a Raft member; `self`: the manager serving the API. */
export function toDockerManagerNode(
  status: RaftMemberStatus,
  options: { readonly self: boolean; readonly rootCa?: RootCA | undefined },
): Record<string, unknown> {
  const { self, rootCa } = options;
  const nodeId = status.member?.nodeId ?? "";
  const addr = status.member?.addr ?? "";
  // A manager that renewed during a root rotation is recorded in it (nodes record theirs).
  const renewed = rootCa?.rootRotation?.renewedManagers.includes(nodeId) === true;
  const tls = nodeTlsInfo(rootCa, renewed && rootCa ? signingDigest(rootCa) : undefined);
  const reachability = self ? Reachability.REACHABLE : status.reachability;
  return {
    ID: nodeId,
    Version: { Index: 0 },
    Spec: { Labels: {}, Role: "manager", Availability: "active" },
    Description: self
      ? {
          Hostname: hostname(),
          Platform: { Architecture: kernelArch(), OS: "linux" },
          Resources: { NanoCPUs: cpus().length * 1e9, MemoryBytes: totalmem() },
          Engine: { EngineVersion: "" },
          TLSInfo: tls,
        }
      : { TLSInfo: tls },
    Status: {
      State: STATE_BY_REACHABILITY.get(reachability) ?? "unknown",
      Addr: addr.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1"),
    },
    ManagerStatus: { Leader: status.leader, Reachability: reachabilityName(reachability), Addr: addr },
  };
}

/** The Docker node of manager `nodeId` (by its exact id), or undefined when no manager has it. */
export async function managerNode(
  ctx: DockerApiContext,
  nodeId: string,
  rootCa: RootCA | undefined,
): Promise<Record<string, unknown> | undefined> {
  const info = await ctx.control.call("getInfo", {});
  const status = info.raft?.members.find((m) => m.member?.nodeId === nodeId);
  return status ? toDockerManagerNode(status, { self: nodeId === ctx.nodeId, rootCa }) : undefined;
}
