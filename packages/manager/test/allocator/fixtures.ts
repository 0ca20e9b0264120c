// Networks, services, tasks and nodes for the allocator's tests, and a running allocator.
import {
  EndpointMode,
  ManualClock,
  Network,
  Node,
  NodeState,
  PortProtocol,
  PublishMode,
  Service,
  Task,
  TaskState,
  silentLogger,
  type PortConfig,
} from "@shoal/shared";
import { Allocator } from "../../src/allocator/index.js";
import { MemoryStore } from "../../src/state/store/index.js";

export function network(
  id: string,
  subnet: string,
  o: { ingress?: boolean; range?: string; name?: string } = {},
): Network {
  return Network.fromPartial({
    id,
    spec: { annotations: { name: o.name ?? id }, ingress: o.ingress ?? false },
    ipam: { configs: [{ subnet, gateway: "", range: o.range ?? "" }] },
    vni: 4096,
  });
}

export function ingressPort(targetPort: number, publishedPort = 0, protocol = PortProtocol.TCP): PortConfig {
  return { name: "", protocol, targetPort, publishedPort, publishMode: PublishMode.INGRESS };
}

export function hostPort(targetPort: number, publishedPort: number): PortConfig {
  return { name: "", protocol: PortProtocol.TCP, targetPort, publishedPort, publishMode: PublishMode.HOST };
}

export interface Joins {
  readonly networks?: string[];
  readonly aliases?: string[];
  readonly ports?: PortConfig[];
  readonly mode?: EndpointMode;
}

export function service(id: string, o: Joins = {}): Service {
  return Service.fromPartial({
    id,
    spec: {
      annotations: { name: id },
      taskTemplate: {
        container: { image: "busybox" },
        networks: (o.networks ?? []).map((target) => ({ target, aliases: o.aliases ?? [] })),
      },
      endpoint: { ports: o.ports ?? [], mode: o.mode ?? EndpointMode.VIP },
      mode: { $case: "replicated", value: { replicas: 1 } },
    },
  });
}

export function task(id: string, o: Joins & { serviceId?: string; state?: TaskState } = {}): Task {
  return Task.fromPartial({
    id,
    serviceId: o.serviceId ?? "svc",
    slot: 1,
    desiredState: TaskState.RUNNING,
    status: { state: o.state ?? TaskState.NEW },
    spec: {
      container: { image: "busybox" },
      networks: (o.networks ?? []).map((target) => ({ target, aliases: o.aliases ?? [] })),
    },
    endpoint: { ports: o.ports ?? [], mode: o.mode ?? EndpointMode.VIP },
  });
}

export function node(id: string, dataPlane: boolean): Node {
  return Node.fromPartial({
    id,
    spec: { annotations: { name: id } },
    description: { hostname: id, networkDataPlane: dataPlane },
    status: { state: NodeState.READY },
  });
}

export function setup(): { store: MemoryStore; clock: ManualClock } {
  const clock = new ManualClock(1_000_000);
  return { store: new MemoryStore({ clock }), clock };
}

const running: Allocator[] = [];

export function startAllocator(store: MemoryStore, clock: ManualClock, debounceMs = 0): Allocator {
  const allocator = new Allocator({ store, logger: silentLogger(), clock, maxWritesPerTx: 3, debounceMs });
  running.push(allocator);
  void allocator.run();
  return allocator;
}

export async function stopAllocators(): Promise<void> {
  await Promise.all(running.splice(0).map((a) => a.stop()));
}

/** The task's addresses, in attachment order. */
export function addressesOf(store: MemoryStore, id: string): string[] {
  const t = store.view((tx) => tx.tasks.get(id));
  return (t?.networks ?? []).flatMap((a) => a.addresses);
}

/** Sets a task's observed state, as an agent's report would. */
export async function setState(store: MemoryStore, id: string, state: TaskState): Promise<void> {
  await store.update((tx) => {
    const t = tx.tasks.get(id)!;
    tx.tasks.update({ ...t, status: { ...t.status!, state } });
  });
}
