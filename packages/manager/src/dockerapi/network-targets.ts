// The networks a service's tasks join and its endpoint mode, Docker's way <-> Shoal's:
// TaskTemplate.Networks (or the deprecated service-level Networks when that is empty) as
// TaskSpec.networks, each Target kept as given (a name or id: the Control API resolves it to the
// network's id when the service is written, so Docker clients read the id back), and
// EndpointSpec.Mode ("vip", the default, or "dnsrr") as EndpointSpec.mode.
import {
  EndpointMode,
  InvalidArgumentError,
  type NetworkAttachmentConfig,
  type PortConfig,
  type ServiceSpec,
} from "@shoal/shared";
import type { DockerEndpointSpec, DockerNetworkAttachment, DockerServiceSpec } from "./docker-types.js";
import { fromDockerPort } from "./endpoint-spec.js";
import { pick } from "./spec-values.js";

export const ENDPOINT_MODES = { vip: EndpointMode.VIP, dnsrr: EndpointMode.DNSRR } as const;

export function endpointModeName(mode: EndpointMode | undefined): string {
  return mode === EndpointMode.DNSRR ? "dnsrr" : "vip";
}

/** The attachments Docker reads: the task template's, else the deprecated service-level ones. */
export function fromDockerNetworks(spec: DockerServiceSpec): NetworkAttachmentConfig[] {
  const task = spec.TaskTemplate?.Networks ?? [];
  const where = task.length > 0 ? "TaskTemplate.Networks" : "Networks";
  const list: readonly (DockerNetworkAttachment | null)[] = task.length > 0 ? task : (spec.Networks ?? []);
  return list.map((a, i) => {
    if (!a?.Target) throw new InvalidArgumentError("is required", { field: `${where}[${i}].Target` });
    if (Object.keys(a.DriverOpts ?? {}).length > 0) {
      throw new InvalidArgumentError("driver options are not supported", { field: `${where}[${i}].DriverOpts` });
    }
    return { target: a.Target, aliases: [...(a.Aliases ?? [])] };
  });
}

/** TaskSpec.networks as Docker's TaskTemplate.Networks; undefined when none. */
export function toDockerNetworks(
  networks: readonly NetworkAttachmentConfig[] | undefined,
): DockerNetworkAttachment[] | undefined {
  if (!networks?.length) return undefined;
  return networks.map((n) =>
    n.aliases.length > 0 ? { Target: n.target, Aliases: [...n.aliases] } : { Target: n.target },
  );
}

/** Docker's EndpointSpec (ports and mode) as Shoal's; undefined when it sets neither. */
export function fromDockerEndpointSpec(e: DockerEndpointSpec | null | undefined): ServiceSpec["endpoint"] {
  if (!e || (!e.Ports && !e.Mode)) return undefined;
  const ports: PortConfig[] = (e.Ports ?? []).map(fromDockerPort);
  const mode = e.Mode ? pick(ENDPOINT_MODES, e.Mode, "EndpointSpec.Mode") : EndpointMode.VIP;
  return { ports, mode };
}
