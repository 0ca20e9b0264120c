// What the agent's DNS server knows, as pure functions of the NetworkStates: which networks a query
// may see (those of the asking task, found by its source address) and the addresses a name stands
// for on them. As in Swarm, `NAME` and each alias give the virtual IP (VIP mode) or every ready
// endpoint (dnsrr), `tasks.NAME` every ready endpoint; the ingress network is for routing only and
// answers no names (libnetwork adds no service records on it).
import { EndpointMode, type NetworkService, type NetworkState } from "@shoal/shared";
import { networkId } from "../network-states.js";

const TASKS_PREFIX = "tasks.";

/**
 * The networks whose services a query may see: those the asking task joins (the task is the
 * endpoint with the query's source address, this node's endpoints first), the network that
 * received the query first; when the source is no known endpoint, the receiving network alone.
 * Ingress is left out.
 */
export function askerNetworks(
  states: readonly NetworkState[],
  receivingId: string,
  source: string,
  nodeId: string,
): NetworkState[] {
  const receiving = states.find((s) => networkId(s) === receivingId);
  const taskId = askingTask(states, receiving, source, nodeId);
  const joined =
    taskId === undefined
      ? receiving === undefined
        ? []
        : [receiving]
      : states.filter((s) => s.endpoints.some((e) => e.taskId === taskId));
  const ordered = [...joined].sort((a, b) => rank(a, receivingId) - rank(b, receivingId));
  return ordered.filter((s) => s.network?.spec?.ingress !== true);
}

/**
 * The addresses `name` stands for on `networks` (the first network that knows it answers), or
 * undefined when no service there has that name. An empty list: the service exists but has
 * nothing to give (dnsrr or tasks.NAME with no ready endpoint, or a virtual IP not yet allocated).
 */
export function resolveName(networks: readonly NetworkState[], name: string): string[] | undefined {
  const wanted = normalizeName(name);
  for (const state of networks) {
    const service = findService(state, wanted);
    if (service === undefined) continue;
    if (service.mode === EndpointMode.DNSRR) return readyAddresses(state, service);
    return service.virtualIp === "" ? [] : [service.virtualIp];
  }
  if (!wanted.startsWith(TASKS_PREFIX)) return undefined;
  const target = wanted.slice(TASKS_PREFIX.length);
  for (const state of networks) {
    const service = findService(state, target);
    if (service !== undefined) return readyAddresses(state, service);
  }
  return undefined;
}

/** Lower case, without the trailing dot. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

function askingTask(
  states: readonly NetworkState[],
  receiving: NetworkState | undefined,
  source: string,
  nodeId: string,
): string | undefined {
  // The source is the task's address on the receiving network; other networks only if not there.
  const candidates = [...(receiving === undefined ? [] : [receiving]), ...states.filter((s) => s !== receiving)];
  const endpoints = candidates.flatMap((s) => s.endpoints.filter((e) => e.address === source));
  const local = endpoints.find((e) => e.nodeId === nodeId);
  return (local ?? endpoints[0])?.taskId;
}

function rank(state: NetworkState, receivingId: string): number {
  return networkId(state) === receivingId ? 0 : 1;
}

function findService(state: NetworkState, name: string): NetworkService | undefined {
  if (name === "") return undefined;
  return state.services.find((s) => s.name.toLowerCase() === name || s.aliases.some((a) => a.toLowerCase() === name));
}

function readyAddresses(state: NetworkState, service: NetworkService): string[] {
  return state.endpoints
    .filter((e) => e.serviceId === service.serviceId && e.ready && e.address !== "")
    .map((e) => e.address);
}
