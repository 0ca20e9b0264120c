// The networks a service is attached to, kept as Docker keeps them: by id. A stack deploy names
// them (`{"Target": "stk_net", "Aliases": [...]}`) and Docker's daemon answers with the id in
// Target; so on create and update every Target is resolved as the daemon does (populateNetworkID):
// TaskTemplate.Networks, or the deprecated top-level Networks when that is empty, each Target
// looked up by full id, then name, then unique id prefix (network-store.ts, findNetwork). An id stays
// as it is; a name no network has is an error, "network X not found".
import type { Service } from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import type { DockerNetworkAttachment, DockerServiceSpec } from "./docker-types.js";
import { findNetwork, storedNetworks, type StoredNetwork } from "./network-store.js";
import { unmappedFields } from "./unmapped-fields.js";

/** The attachments Docker resolves: the task template's, else the deprecated service-level ones. */
function attachmentsOf(spec: DockerServiceSpec): {
  readonly where: "task" | "service";
  readonly list: readonly (DockerNetworkAttachment | null)[];
} {
  const task = spec.TaskTemplate?.Networks ?? [];
  if (task.length > 0) return { where: "task", list: task };
  return { where: "service", list: spec.Networks ?? [] };
}

/** `spec` with the Target of each network attachment replaced by its network's id. Pure. */
export function withNetworkIds(spec: DockerServiceSpec, networks: readonly StoredNetwork[]): DockerServiceSpec {
  const { where, list } = attachmentsOf(spec);
  if (list.length === 0) return spec;
  // A null entry is an empty attachment to Go's decoder: its Target "" is looked up like any other.
  const resolved = list.map((a) => ({ ...a, Target: findNetwork(networks, a?.Target ?? "").Id }));
  return where === "task"
    ? { ...spec, TaskTemplate: { ...spec.TaskTemplate, Networks: resolved } }
    : { ...spec, Networks: resolved };
}

/** `spec` with its networks named by id, reading the networks only when it names some. */
export async function resolveNetworkTargets(
  ctx: DockerApiContext,
  spec: DockerServiceSpec,
): Promise<DockerServiceSpec> {
  if (attachmentsOf(spec).list.length === 0) return spec;
  return withNetworkIds(spec, await storedNetworks(ctx));
}

/**
 * The first service attached to `network`, if any: its kept TaskTemplate.Networks (or
 * service-level Networks) name the network's id (or, stored before ids were, its name).
 */
export function serviceUsingNetwork(services: readonly Service[], network: StoredNetwork): Service | undefined {
  return services.find((s) => {
    const kept = unmappedFields(s.spec?.annotations?.labels) as DockerServiceSpec | undefined;
    if (kept === undefined) return false;
    const targets = [...(kept.TaskTemplate?.Networks ?? []), ...(kept.Networks ?? [])].map((a) => a?.Target);
    return targets.includes(network.Id) || targets.includes(network.Name);
  });
}
