// What the allocator gives one object, planned against its memory (allocations.ts): a task's
// attachments, a service's endpoint, a node's ingress address. Each either succeeds whole or
// undoes what it took and says why and what it waits for: nothing is half-allocated.
import {
  EndpointMode,
  EndpointSpec,
  PublishMode,
  type Endpoint,
  type EndpointVirtualIP,
  type NetworkAttachment,
  type Node,
  type PortConfig,
  type PortProtocol,
  type Service,
  type Task,
} from "@shoal/shared";
import {
  INGRESS,
  Journal,
  PORTS,
  nodeOwner,
  serviceOwner,
  taskOwner,
  type Allocations,
  type Blocker,
} from "./allocations.js";
import { DYNAMIC_PORT_HIGH, DYNAMIC_PORT_LOW, portName } from "./port-pool.js";
import { portKey } from "../scheduler/task-rules.js";
import { publishesIngress } from "./task-networks.js";

export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly blocker: Blocker };

/** "network backend has no free address" */
export function noFreeAddress(name: string): string {
  return `network ${name} has no free address`;
}

function failed<T>(journal: Journal, reason: string, blocker: Blocker): Outcome<T> {
  journal.undo();
  return { ok: false, reason, blocker };
}

function missing<T>(journal: Journal, networkId: string): Outcome<T> {
  return failed(journal, `network ${networkId} does not exist`, networkId);
}

/** A task's attachments: one per network of its spec, then ingress when it publishes an ingress port. */
export function allocateTask(a: Allocations, task: Task, journal: Journal): Outcome<NetworkAttachment[]> {
  const owner = taskOwner(task.id);
  const j = new Journal();
  a.releaseExcept(owner, [], j); // nothing of a half-written allocation is kept: start afresh
  const out: NetworkAttachment[] = [];
  const wants = (task.spec?.networks ?? []).map((n) => ({ networkId: n.target, aliases: n.aliases }));
  if (publishesIngress(task.endpoint)) {
    if (a.ingressId === undefined) return failed(j, "network ingress does not exist", INGRESS);
    wants.push({ networkId: a.ingressId, aliases: [] });
  }
  for (const { networkId, aliases } of wants) {
    const pool = a.pool(networkId);
    if (pool === undefined) return missing(j, networkId);
    const address = a.take(owner, networkId, j);
    if (address === undefined) return failed(j, noFreeAddress(pool.name), networkId);
    out.push({ networkId, addresses: [pool.format(address)], aliases: [...aliases] });
  }
  journal.adopt(j);
  return { ok: true, value: out };
}

/**
 * A service's endpoint: its spec, its ports (an ingress port published as 0 keeps the port it was
 * given before, else gets one from the dynamic range), and in VIP mode a virtual IP per network
 * (ingress excepted), kept across updates.
 */
export function planEndpoint(a: Allocations, service: Service, journal: Journal): Outcome<Endpoint> {
  const id = service.id;
  const spec = EndpointSpec.fromPartial(service.spec?.endpoint ?? {});
  const current = service.endpoint;
  const j = new Journal();
  const ports: PortConfig[] = spec.ports.map((p) => ({ ...p }));
  const held: Array<readonly [PortProtocol, number]> = [];
  const mine = new Set<number>();
  // Fixed ports first, so that a port picked for 0 never collides with one named in the spec.
  for (const p of ports) {
    if (p.publishMode !== PublishMode.INGRESS || p.publishedPort === 0) continue;
    const holder = a.portHolder(p.protocol, p.publishedPort);
    if (holder !== undefined && holder !== id) {
      return failed(
        j,
        `port ${portName(portKey(p.protocol, p.publishedPort))} is already in use by service ${holder}`,
        PORTS,
      );
    }
    mine.add(portKey(p.protocol, p.publishedPort));
    held.push([p.protocol, p.publishedPort]);
  }
  for (const p of ports) {
    if (p.publishMode !== PublishMode.INGRESS || p.publishedPort !== 0) continue;
    const before = current?.ports.find(
      (c) =>
        c.publishMode === PublishMode.INGRESS &&
        c.protocol === p.protocol &&
        c.targetPort === p.targetPort &&
        c.publishedPort >= DYNAMIC_PORT_LOW &&
        c.publishedPort <= DYNAMIC_PORT_HIGH &&
        !mine.has(portKey(c.protocol, c.publishedPort)) &&
        a.portHolder(c.protocol, c.publishedPort) === id,
    );
    const port = before?.publishedPort ?? a.takePort(p.protocol, id, j);
    if (port === undefined) return failed(j, "no free published port left in 30000-32767", PORTS);
    p.publishedPort = port;
    mine.add(portKey(p.protocol, port));
    held.push([p.protocol, port]);
  }
  a.setPorts(id, held, j);
  const owner = serviceOwner(id);
  const virtualIps: EndpointVirtualIP[] = [];
  const fresh: string[] = [];
  if (spec.mode === EndpointMode.VIP) {
    for (const networkId of vipNetworks(a, service)) {
      const pool = a.pool(networkId);
      if (pool === undefined) return missing(j, networkId);
      const before = current?.virtualIps.find((v) => v.networkId === networkId);
      const address = before === undefined ? undefined : pool.addressOf(before.addr);
      if (before !== undefined && address !== undefined && pool.holder(address) === owner) {
        virtualIps.push({ networkId, addr: before.addr });
      } else fresh.push(networkId);
    }
  }
  a.releaseExcept(
    owner,
    virtualIps.map((v) => ({ networkId: v.networkId, cidr: v.addr })),
    j,
  );
  for (const networkId of fresh) {
    const pool = a.pool(networkId)!;
    const address = a.take(owner, networkId, j);
    if (address === undefined) return failed(j, noFreeAddress(pool.name), networkId);
    virtualIps.push({ networkId, addr: pool.format(address) });
  }
  journal.adopt(j);
  return { ok: true, value: { spec, ports, virtualIps } };
}

/** The networks a service has a virtual IP on: those of its task template, once each, not ingress. */
function vipNetworks(a: Allocations, service: Service): string[] {
  const out: string[] = [];
  for (const n of service.spec?.taskTemplate?.networks ?? []) {
    if (n.target !== a.ingressId && !out.includes(n.target)) out.push(n.target);
  }
  return out;
}

/** Whether the service's endpoint is the one its spec asks for (the watch's cheap check). */
export function endpointCurrent(a: Allocations, service: Service): boolean {
  const e = service.endpoint;
  const spec = EndpointSpec.fromPartial(service.spec?.endpoint ?? {});
  // A service that joins no network and publishes no ingress port, with nothing allocated: no
  // write, as in Swarm, so that a service without networking is not written again after each
  // change. (One on a network gets its endpoint even in dnsrr mode: its mode is read from there.)
  if (e === undefined) return !publishesIngress(spec) && (service.spec?.taskTemplate?.networks.length ?? 0) === 0;
  if (!sameSpec(e.spec, spec) || e.ports.length !== spec.ports.length) return false;
  if (e.ports.some((p) => p.publishMode === PublishMode.INGRESS && p.publishedPort === 0)) return false;
  const wanted = spec.mode === EndpointMode.VIP ? vipNetworks(a, service) : [];
  return wanted.length === e.virtualIps.length && wanted.every((id) => e.virtualIps.some((v) => v.networkId === id));
}

function sameSpec(a: EndpointSpec | undefined, b: EndpointSpec): boolean {
  const bytes = (x: EndpointSpec): string => Buffer.from(EndpointSpec.encode(x).finish()).toString("base64");
  return a !== undefined && bytes(a) === bytes(b);
}

/** Whether the node should have an ingress address it lacks. */
export function nodeNeedsIngress(a: Allocations, node: Node): boolean {
  if (node.description?.networkDataPlane !== true) return false;
  const ingress = a.ingressId;
  if (ingress === undefined) return true; // waits for it
  return !node.attachments.some((x) => x.networkId === ingress && x.addresses.length > 0);
}

/** The node's attachments with its ingress address (stale attachments of gone networks dropped). */
export function planNodeAttachments(a: Allocations, node: Node, journal: Journal): Outcome<NetworkAttachment[]> {
  const ingress = a.ingressId;
  const j = new Journal();
  if (ingress === undefined) return failed(j, "network ingress does not exist", INGRESS);
  const pool = a.pool(ingress);
  if (pool === undefined) return missing(j, ingress);
  const owner = nodeOwner(node.id);
  const kept = node.attachments.filter((x) => x.networkId !== ingress && a.pool(x.networkId) !== undefined);
  a.releaseExcept(
    owner,
    kept.flatMap((x) => x.addresses.map((cidr) => ({ networkId: x.networkId, cidr }))),
    j,
  );
  const address = a.take(owner, ingress, j);
  if (address === undefined) return failed(j, noFreeAddress(pool.name), ingress);
  journal.adopt(j);
  return { ok: true, value: [...kept, { networkId: ingress, addresses: [pool.format(address)], aliases: [] }] };
}
