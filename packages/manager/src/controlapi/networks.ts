// Control API: networks. Create validates the spec and allocates its subnet, gateway and VNI in the
// same store transaction (network-allocation.ts); get finds by id, name or unique id prefix; list
// filters as secrets are filtered; remove refuses while a service's tasks join the network, and
// always for the cluster's ingress network.
import {
  ErrorCode,
  ShoalError,
  newId,
  type CreateNetworkRequest,
  type CreateNetworkResponse,
  type GetNetworkRequest,
  type GetNetworkResponse,
  type ListNetworksRequest,
  type ListNetworksResponse,
  type Network,
  type RemoveNetworkRequest,
  type RemoveNetworkResponse,
  type Service,
} from "@shoal/shared";
import type { MemoryStore, ReadTx } from "../state/store/index.js";
import { createNetworkIn } from "./network-allocation.js";
import { resolveRef } from "./resolve.js";
import { matchesSecretFilters } from "./secret-objects.js";
import { validateNetworkSpec } from "./validate-network.js";

/** Client writes carry the version they read: their conflicts are the client's to see. */
const PIPELINED = { pipelined: true } as const;

const nameOf = (n: Network): string => n.spec?.annotations?.name ?? "";

export function findNetwork(tx: ReadTx, ref: string): Network {
  return resolveRef(
    "network",
    ref,
    (id) => tx.networks.get(id),
    (name) => tx.networks.find({ name })[0],
    (prefix) => tx.networks.find({ idPrefix: prefix }),
  );
}

/** Whether `service`'s tasks join `network` (named by id, or by name before it is resolved). */
export function serviceUsesNetwork(service: Service, network: Network): boolean {
  const targets = (service.spec?.taskTemplate?.networks ?? []).map((a) => a.target);
  return targets.includes(network.id) || (nameOf(network) !== "" && targets.includes(nameOf(network)));
}

export async function createNetwork(store: MemoryStore, req: CreateNetworkRequest): Promise<CreateNetworkResponse> {
  const spec = validateNetworkSpec(req.spec);
  const id = newId();
  await store.update((tx) => {
    const name = nameOf({ spec } as Network);
    if (tx.networks.find({ name }).length > 0) {
      throw new ShoalError(ErrorCode.AlreadyExists, `network with name ${name} already exists`);
    }
    createNetworkIn(tx, id, spec);
  }, PIPELINED);
  const network = store.view((tx) => tx.networks.get(id));
  if (!network) throw new ShoalError(ErrorCode.NotFound, `network ${id} not found`); // removed right after
  return { network };
}

export function getNetwork(store: MemoryStore, req: GetNetworkRequest): GetNetworkResponse {
  return { network: store.view((tx) => findNetwork(tx, req.networkId)) };
}

export function listNetworks(store: MemoryStore, req: ListNetworksRequest): ListNetworksResponse {
  const found = store.view((tx) => tx.networks.find()).filter((n) => matchesSecretFilters(n, req.filters));
  found.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  return { networks: found };
}

export async function removeNetwork(store: MemoryStore, req: RemoveNetworkRequest): Promise<RemoveNetworkResponse> {
  await store.update((tx) => {
    const network = findNetwork(tx, req.networkId);
    if (network.spec?.ingress) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `network ${nameOf(network)} is the cluster's ingress network (the routing mesh's): it cannot be removed`,
        { details: { kind: "network", id: network.id } },
      );
    }
    const users = tx.services
      .find()
      .filter((s) => serviceUsesNetwork(s, network))
      .map((s) => s.spec?.annotations?.name ?? s.id)
      .sort();
    if (users.length > 0) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `network ${nameOf(network)} is in use by ${users.length === 1 ? "service" : "services"} ${users.join(", ")}`,
        { details: { kind: "network", id: network.id, services: users.join(",") } },
      );
    }
    tx.networks.delete(network.id);
  }, PIPELINED);
  return {};
}
