// What the dispatcher's network index reads from tasks, services and nodes: pure functions, each
// reducing an object to the few fields a NetworkState is made of (see network-index.ts).
import { isIP } from "node:net";
import {
  cidrAddress,
  EndpointMode,
  HealthState,
  PublishMode,
  TaskState,
  type NetworkEndpoint,
  type Node,
  type PortConfig,
  type Service,
  type Task,
} from "@shoal/shared";
import { hasEnded, statusState } from "../orchestrator/task-states.js";

/** One attachment of a task as an endpoint of its network. */
export interface TaskEndpoint {
  readonly networkId: string;
  readonly endpoint: NetworkEndpoint;
}

/** A service as its networks' states show it. */
export interface ServiceInfo {
  readonly name: string;
  readonly mode: EndpointMode;
  /** Network id -> the aliases its tasks have there (TaskSpec.networks). */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
  /** Network id -> the virtual IP, without prefix. */
  readonly virtualIps: ReadonlyMap<string, string>;
  readonly ports: readonly PortConfig[];
  /** It publishes a port in ingress mode (the routing mesh is needed on every data-plane node). */
  readonly ingress: boolean;
}

/** A node as its networks' states show it. */
export interface NodeInfo {
  /** Where other nodes send its VXLAN traffic: an IP address, or "" when unknown. */
  readonly dataPathAddr: string;
  readonly dataPlane: boolean;
  /** Network id -> its own address there (CIDR). */
  readonly addresses: ReadonlyMap<string, string>;
}

/** The IP of an address that may carry a port ("10.0.0.5:4242", "[fd00::1]:4242"). */
export function hostOnly(addr: string): string {
  if (isIP(addr) !== 0) return addr;
  const colon = addr.lastIndexOf(":");
  const host = colon === -1 ? addr : addr.slice(0, colon);
  return host.replace(/^\[|\]$/g, "");
}

/**
 * Running, wanted running and, with a health check, healthy. A task without a check in its spec
 * counts as healthy unless its agent reports the image's own check as starting or failing.
 */
export function isEndpointReady(task: Task): boolean {
  if (statusState(task) !== TaskState.RUNNING || task.desiredState !== TaskState.RUNNING) return false;
  const test = task.spec?.container?.healthcheck?.test ?? [];
  if (test[0] === "NONE") return true;
  const health = task.status?.health ?? HealthState.UNKNOWN;
  if (health === HealthState.HEALTHY || health === HealthState.NONE) return true;
  return health === HealthState.UNKNOWN && test.length === 0;
}

/** The endpoints of a task: one per allocated attachment while it is on a node and not ended. */
export function endpointsOf(task: Task): TaskEndpoint[] {
  if (task.networks.length === 0 || task.nodeId === "" || hasEnded(task)) return [];
  if (statusState(task) < TaskState.ASSIGNED) return [];
  const ready = isEndpointReady(task);
  const out: TaskEndpoint[] = [];
  for (const a of task.networks) {
    const address = a.addresses[0];
    if (a.networkId === "" || address === undefined || address === "") continue;
    out.push({
      networkId: a.networkId,
      endpoint: {
        taskId: task.id,
        serviceId: task.serviceId,
        nodeId: task.nodeId,
        address: cidrAddress(address),
        ready,
      },
    });
  }
  return out;
}

export function sameEndpoint(a: NetworkEndpoint, b: NetworkEndpoint): boolean {
  return a.address === b.address && a.ready === b.ready && a.nodeId === b.nodeId && a.serviceId === b.serviceId;
}

export function hasIngressPort(service: Service | undefined): boolean {
  return (service?.endpoint?.ports ?? []).some((p) => p.publishMode === PublishMode.INGRESS);
}

export function serviceInfoOf(service: Service): ServiceInfo {
  const aliases = new Map<string, readonly string[]>();
  for (const n of service.spec?.taskTemplate?.networks ?? []) aliases.set(n.target, n.aliases);
  const virtualIps = new Map<string, string>();
  for (const v of service.endpoint?.virtualIps ?? []) virtualIps.set(v.networkId, cidrAddress(v.addr));
  return {
    name: service.spec?.annotations?.name ?? "",
    mode: service.spec?.endpoint?.mode ?? EndpointMode.VIP,
    aliases,
    virtualIps,
    ports: service.endpoint?.ports ?? [],
    ingress: hasIngressPort(service),
  };
}

export function nodeInfoOf(node: Node): NodeInfo {
  const addresses = new Map<string, string>();
  for (const a of node.attachments) {
    const address = a.addresses[0];
    if (address !== undefined && address !== "") addresses.set(a.networkId, address);
  }
  const given = node.description?.dataPathAddr ?? "";
  return {
    dataPathAddr: isIP(given) !== 0 ? given : hostOnly(node.status?.addr ?? ""),
    dataPlane: node.description?.networkDataPlane ?? false,
    addresses,
  };
}

/** Whether a node change can change a network state (its data-path address, data plane, addresses). */
export function nodeNetworkChanged(a: Node, b: Node): boolean {
  if ((a.description?.dataPathAddr ?? "") !== (b.description?.dataPathAddr ?? "")) return true;
  if ((a.description?.networkDataPlane ?? false) !== (b.description?.networkDataPlane ?? false)) return true;
  if ((a.status?.addr ?? "") !== (b.status?.addr ?? "")) return true;
  if (a.attachments.length !== b.attachments.length) return true;
  return a.attachments.some(
    (x, i) => x.networkId !== b.attachments[i]?.networkId || x.addresses[0] !== b.attachments[i]?.addresses[0],
  );
}
