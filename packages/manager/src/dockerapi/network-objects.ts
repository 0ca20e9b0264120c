// Networks as the Docker Engine API shows them: in /networks (a swarm-scoped overlay network as
// Docker's daemon shows it on a manager), inside a task's NetworksAttachments (the swarm object),
// and a service's Endpoint with its allocated ports and virtual IPs. Also a /networks/create body
// as a NetworkSpec. Pure.
import {
  InvalidArgumentError,
  type Meta,
  type Network,
  type NetworkSpec,
  type Service,
  type Task,
} from "@shoal/shared";
import type { DockerApiContext } from "./context.js";
import type { DockerNetworkCreate } from "./docker-types.js";
import { toDockerPort } from "./endpoint-spec.js";
import { endpointModeName } from "./network-targets.js";
import { defined } from "./spec-values.js";

/** An object's Version, CreatedAt and UpdatedAt as Docker shows them (times left out when unknown). */
export function meta(m: Meta | undefined): Record<string, unknown> {
  return defined({
    Version: { Index: m?.version?.index ?? 0 },
    CreatedAt: m?.createdAt?.toISOString(),
    UpdatedAt: (m?.updatedAt ?? m?.createdAt)?.toISOString(),
  });
}

/** The driver option Docker's overlay driver shows the VNI in. */
export const VXLANID_OPTION = "com.docker.network.driver.overlay.vxlanid_list";

const nameOf = (n: Network): string => n.spec?.annotations?.name ?? "";
const ipamConfigs = (n: Network): Record<string, string>[] =>
  (n.ipam?.configs ?? []).map((c) =>
    defined({ Subnet: c.subnet, Gateway: c.gateway || undefined, IPRange: c.range || undefined }),
  );

/** A network as `GET /networks/{id}` shows it. */
export function toDockerNetwork(n: Network): Record<string, unknown> {
  return {
    Name: nameOf(n),
    Id: n.id,
    Created: (n.meta?.createdAt ?? new Date(0)).toISOString(),
    Scope: "swarm",
    Driver: "overlay",
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: null, Config: ipamConfigs(n) },
    Internal: false,
    Attachable: n.spec?.attachable ?? false,
    Ingress: n.spec?.ingress ?? false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    Containers: null,
    Options: { [VXLANID_OPTION]: String(n.vni) },
    Labels: { ...(n.spec?.annotations?.labels ?? {}) },
  };
}

/** A network as a task's NetworksAttachments shows it: the swarm object, with its spec and allocation. */
export function toDockerSwarmNetwork(n: Network): Record<string, unknown> {
  const ipam = { Driver: { Name: "default" }, Configs: ipamConfigs(n) };
  return {
    ID: n.id,
    ...meta(n.meta),
    Spec: defined({
      Name: nameOf(n),
      Labels: { ...(n.spec?.annotations?.labels ?? {}) },
      DriverConfiguration: { Name: "overlay" },
      Ingress: n.spec?.ingress || undefined,
      Attachable: n.spec?.attachable || undefined,
      IPAMOptions: ipam,
      Scope: "swarm",
    }),
    DriverState: { Name: "overlay", Options: { [VXLANID_OPTION]: String(n.vni) } },
    IPAMOptions: ipam,
  };
}

/** The networks `tasks` are attached to, by id (read only when some task has an attachment). */
export async function networksOf(ctx: DockerApiContext, tasks: readonly Task[]): Promise<Map<string, Network>> {
  if (!tasks.some((t) => t.networks.length > 0)) return new Map();
  const { networks } = await ctx.control.call("listNetworks", { filters: undefined });
  return new Map(networks.map((n) => [n.id, n]));
}

/** A task's NetworksAttachments: each allocated attachment with its network (left out when unknown). */
export function toDockerNetworksAttachments(
  task: Task,
  networks: ReadonlyMap<string, Network>,
): Record<string, unknown>[] | undefined {
  const out = task.networks.flatMap((a) => {
    const n = networks.get(a.networkId);
    return n ? [{ Network: toDockerSwarmNetwork(n), Addresses: [...a.addresses] }] : [];
  });
  return out.length > 0 ? out : undefined;
}

/**
 * A service's Endpoint: the spec's mode and ports, the ports as allocated (the spec's until the
 * allocator has written them) and one virtual IP per network.
 */
export function toDockerEndpoint(service: Service): Record<string, unknown> {
  const specPorts = service.spec?.endpoint?.ports.map(toDockerPort) ?? [];
  const allocated = service.endpoint;
  const ports = allocated?.ports.length ? allocated.ports.map(toDockerPort) : specPorts;
  const vips = allocated?.virtualIps.map((v) => ({ NetworkID: v.networkId, Addr: v.addr })) ?? [];
  return defined({
    Spec: defined({
      Mode: endpointModeName(service.spec?.endpoint?.mode),
      Ports: specPorts.length > 0 ? specPorts : undefined,
    }),
    Ports: ports.length > 0 ? ports : undefined,
    VirtualIPs: vips.length > 0 ? vips : undefined,
  });
}

/** Fields of a create Shoal refuses when set (what Docker's swarm overlay networks could have). */
function refuse(field: string, why: string): never {
  throw new InvalidArgumentError(why, { field });
}

/** A /networks/create body as a NetworkSpec; what Shoal does not do is refused, naming the field. */
export function fromDockerNetworkCreate(body: DockerNetworkCreate): NetworkSpec {
  const driver = body.Driver ?? "";
  if (driver !== "" && driver !== "overlay")
    refuse("Driver", `driver ${JSON.stringify(driver)} is not supported: only "overlay"`);
  if (body.Internal === true) refuse("Internal", "internal networks are not supported");
  if (body.Ingress === true) refuse("Ingress", "the cluster makes the ingress network: it cannot be created");
  if (body.EnableIPv6 === true) refuse("EnableIPv6", "IPv6 is not supported");
  if (body.ConfigOnly === true) refuse("ConfigOnly", "config-only networks are not supported");
  if (body.ConfigFrom?.Network) refuse("ConfigFrom", "config-only networks are not supported");
  if (Object.keys(body.Options ?? {}).length > 0) refuse("Options", "driver options are not supported");
  const ipam = body.IPAM;
  if (Object.keys(ipam?.Options ?? {}).length > 0) refuse("IPAM.Options", "IPAM options are not supported");
  const configs = (ipam?.Config ?? []).map((c, i) => {
    if (Object.keys(c?.AuxiliaryAddresses ?? {}).length > 0) {
      refuse(`IPAM.Config[${i}].AuxiliaryAddresses`, "auxiliary addresses are not supported");
    }
    return { subnet: c?.Subnet ?? "", gateway: c?.Gateway ?? "", range: c?.IPRange ?? "" };
  });
  return {
    annotations: { name: body.Name ?? "", labels: { ...(body.Labels ?? {}) } },
    driverConfig: { name: "overlay", options: {} },
    attachable: body.Attachable === true,
    ingress: false,
    ipam: ipam ? { driver: { name: ipam.Driver ?? "", options: {} }, configs } : undefined,
  };
}
