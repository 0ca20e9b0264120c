// A service's networks and endpoint in the store, once their form is checked (validate-service-
// networks.ts): within the transaction that stores the service
// (resolveServiceNetworks), each TaskSpec.networks target (id, name or unique id prefix) becomes
// the network's id, and what Swarm refuses is refused: an unknown network, the ingress network
// named (a port published in ingress mode joins it), a network named twice, and an ingress
// published port another service holds. Host-mode ports are the scheduler's (one task per node).
import {
  InvalidArgumentError,
  NotFoundError,
  PortProtocol,
  PublishMode,
  ShoalError,
  type PortConfig,
  type ServiceSpec,
} from "@shoal/shared";
import type { ReadTx } from "../state/store/index.js";
import { findNetwork as findNetworkByRef } from "./networks.js";

const NETWORKS = "spec.task_template.networks";

/** The spec with its networks named by id; refusals name the field. `serviceId`: the service written. */
export function resolveServiceNetworks(tx: ReadTx, spec: ServiceSpec, serviceId: string): ServiceSpec {
  checkIngressPorts(tx, spec, serviceId);
  const networks = spec.taskTemplate?.networks ?? [];
  if (networks.length === 0) return spec;
  const ids: string[] = [];
  const resolved = networks.map((n, i) => {
    const field = `${NETWORKS}[${i}].target`;
    const network = findNetwork(tx, n.target, field);
    const name = network.spec?.annotations?.name ?? network.id;
    if (network.spec?.ingress === true) {
      throw new InvalidArgumentError(`service cannot be explicitly attached to the ingress network "${name}"`, {
        field,
      });
    }
    const first = ids.indexOf(network.id);
    if (first >= 0) {
      throw new InvalidArgumentError(`network "${name}" is already attached as ${NETWORKS}[${first}]`, { field });
    }
    ids.push(network.id);
    return { ...n, target: network.id };
  });
  return { ...spec, taskTemplate: { ...spec.taskTemplate!, networks: resolved } };
}

function findNetwork(tx: ReadTx, ref: string, field: string) {
  try {
    return findNetworkByRef(tx, ref);
  } catch (err: unknown) {
    // As Docker: 404 "network X not found" (the field in the details).
    if (err instanceof NotFoundError) throw new NotFoundError("network", ref, { details: { field } });
    if (err instanceof ShoalError) throw new InvalidArgumentError(err.message, { field });
    throw err;
  }
}

/** The ingress-mode ports with a published port, as `port/protocol`. */
function ingressPorts(ports: readonly PortConfig[] | undefined): string[] {
  return (ports ?? [])
    .filter((p) => p.publishMode === PublishMode.INGRESS && p.publishedPort !== 0)
    .map((p) => `${p.publishedPort}/${p.protocol === PortProtocol.UDP ? "udp" : "tcp"}`);
}

/** Each ingress published port once, and none another service holds (in its spec or as allocated). */
function checkIngressPorts(tx: ReadTx, spec: ServiceSpec, serviceId: string): void {
  const ports = spec.endpoint?.ports ?? [];
  const wanted = new Map<string, number>();
  ports.forEach((p, i) => {
    const [key] = ingressPorts([p]);
    if (key === undefined) return;
    const first = wanted.get(key);
    if (first !== undefined) {
      throw new InvalidArgumentError(
        `port '${p.publishedPort}' is published twice (also spec.endpoint.ports[${first}])`,
        {
          field: `spec.endpoint.ports[${i}].published_port`,
        },
      );
    }
    wanted.set(key, i);
  });
  if (wanted.size === 0) return;
  for (const other of tx.services.find()) {
    if (other.id === serviceId) continue;
    const held = new Set([...ingressPorts(other.spec?.endpoint?.ports), ...ingressPorts(other.endpoint?.ports)]);
    for (const [key, i] of wanted) {
      if (!held.has(key)) continue;
      const name = other.spec?.annotations?.name ?? other.id;
      throw new InvalidArgumentError(`port '${ports[i]!.publishedPort}' is already in use by service '${name}'`, {
        field: `spec.endpoint.ports[${i}].published_port`,
      });
    }
  }
}
