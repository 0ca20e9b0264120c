// Networks, services, nodes and tasks as the allocator and scheduler leave them in the store, for
// the tests of what the dispatcher tells nodes about networks.
import {
  AssignmentAction,
  HealthState,
  Network,
  Node,
  PublishMode,
  Service,
  Task,
  TaskState,
  type AssignmentChange,
} from "@shoal/shared";

export function network(id: string, subnet: string, ingress = false): Network {
  return Network.fromPartial({
    id,
    spec: { annotations: { name: id }, ingress },
    ipam: { configs: [{ subnet, gateway: subnet.replace(/0\/\d+$/, "1") }] },
    vni: 4096 + id.length,
  });
}

export function node(id: string, addr: string, options: { dataPathAddr?: string; ingressAddr?: string } = {}): Node {
  return Node.fromPartial({
    id,
    description: { hostname: id, dataPathAddr: options.dataPathAddr ?? "", networkDataPlane: true },
    status: { addr },
    attachments: options.ingressAddr ? [{ networkId: "ingress", addresses: [options.ingressAddr] }] : [],
  });
}

export function service(
  id: string,
  networks: { target: string; aliases?: string[]; vip?: string }[],
  ingressPort?: number,
): Service {
  const ports = ingressPort
    ? [{ targetPort: 80, publishedPort: ingressPort, publishMode: PublishMode.INGRESS, protocol: 0, name: "" }]
    : [];
  return Service.fromPartial({
    id,
    spec: {
      annotations: { name: id },
      taskTemplate: { networks: networks.map((n) => ({ target: n.target, aliases: n.aliases ?? [] })) },
      endpoint: { ports },
    },
    endpoint: {
      ports,
      virtualIps: networks.flatMap((n) => (n.vip ? [{ networkId: n.target, addr: n.vip }] : [])),
    },
  });
}

export interface TaskOptions {
  readonly state?: TaskState;
  readonly desired?: TaskState;
  readonly health?: HealthState;
  readonly healthcheck?: string[];
}

/** A task of `serviceId` on `nodeId` with an address on each network: [network id, CIDR]. */
export function task(
  id: string,
  serviceId: string,
  nodeId: string,
  networks: [string, string][],
  o: TaskOptions = {},
): Task {
  return Task.fromPartial({
    id,
    serviceId,
    nodeId,
    desiredState: o.desired ?? TaskState.RUNNING,
    status: { state: o.state ?? TaskState.ASSIGNED, health: o.health ?? HealthState.UNKNOWN },
    spec: { container: { image: "shoal-base:1", ...(o.healthcheck ? { healthcheck: { test: o.healthcheck } } : {}) } },
    networks: networks.map(([networkId, address]) => ({ networkId, addresses: [address], aliases: [] })),
  });
}

/** A change as a short word: "+net:n1", "-net:n1", "+task:t1", "-task:t1". */
export function word(c: AssignmentChange): string {
  const sign = c.action === AssignmentAction.UPDATE ? "+" : "-";
  if (c.network) return `${sign}net:${c.network.network!.id}`;
  if (c.task) return `${sign}task:${c.task.id}`;
  return `${sign}other`;
}
