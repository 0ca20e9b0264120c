// The dispatcher's index of networks, shared by every node's assignments stream: per network its
// endpoints (attachments of tasks on a node and not ended), the nodes and services those belong
// to, and a version that changes whenever the network's state does. A task event touches only the
// networks the task joins, a service event the networks it has tasks on, a node event the networks
// it is on; the states are built on demand, once per version, and shared between nodes.
//
// The index has its own store subscription, filtered to what matters for networks (tasks with
// attachments, services, nodes' network fields, networks): a cluster without networks queues
// nothing for it. It is drained synchronously by `sync()`, which a stream calls at each of its
// commit events: the store delivers an entry's events to every subscription at once, so after the
// drain the index is at least as new as the stream's commit. An overflowed or resynced
// subscription is replaced and the index rebuilt from the store.
import type { Network, NetworkEndpoint, NetworkPeer, NetworkService, NetworkState, Node, Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, Subscription } from "../state/store/index.js";
import {
  endpointsOf,
  nodeInfoOf,
  nodeNetworkChanged,
  sameEndpoint,
  serviceInfoOf,
  type NodeInfo,
  type ServiceInfo,
  type TaskEndpoint,
} from "./network-endpoints.js";

interface NetworkEntry {
  version: number;
  /** Task id -> its endpoint here. */
  readonly endpoints: Map<string, NetworkEndpoint>;
  /** Node id -> how many endpoints it has here. */
  readonly nodes: Map<string, number>;
  /** Service id -> how many endpoints it has here. */
  readonly services: Map<string, number>;
  /** The state without the node's own part (all peers, no node address); built on demand. */
  built: NetworkState | undefined;
}

/** Adds `delta` to `map[key]`, dropping it at 0; returns the new count. */
function count(map: Map<string, number>, key: string, delta: number): number {
  const n = (map.get(key) ?? 0) + delta;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
  return n;
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class NetworkIndex {
  private subscription!: Subscription;
  private readonly networks = new Map<string, Network>();
  private ingressId: string | undefined;
  private readonly entries = new Map<string, NetworkEntry>();
  /** Task id -> its endpoints (tasks with none are not kept). */
  private readonly tasks = new Map<string, readonly TaskEndpoint[]>();
  private readonly services = new Map<string, ServiceInfo>();
  /** Services publishing an ingress-mode port. */
  private readonly ingressServices = new Set<string>();
  private readonly nodes = new Map<string, NodeInfo>();
  /** Node id -> network id -> its endpoints there. */
  private readonly nodeNetworks = new Map<string, Map<string, number>>();
  /** Service id -> network id -> its endpoints there. */
  private readonly serviceNetworks = new Map<string, Map<string, number>>();
  /** Versions only grow, across rebuilds too: a stream compares them with what it sent. */
  private clock = 0;
  private closed = false;

  constructor(private readonly store: MemoryStore) {
    this.load();
  }

  /** Applies the store events that came since the last call. */
  sync(): void {
    if (this.closed) return;
    let events;
    try {
      events = this.subscription.drain();
    } catch {
      this.reload(); // fell behind: the store is the truth
      return;
    }
    for (const ev of events) {
      if (ev.kind === "resync") {
        this.reload();
        return;
      }
      if (ev.kind !== "commit") this.onEvent(ev);
    }
  }

  /** The version of network `id`'s state; undefined when there is no such network. */
  version(id: string): number | undefined {
    if (!this.networks.has(id)) return undefined;
    return this.entry(id).version;
  }

  /** The ingress network's id when node `nodeId` needs it (a data plane, and a service publishes). */
  ingressFor(nodeId: string): string | undefined {
    if (this.ingressId === undefined || this.ingressServices.size === 0) return undefined;
    return this.nodes.get(nodeId)?.dataPlane === true ? this.ingressId : undefined;
  }

  /** Network `id`'s state as node `nodeId` is told it; undefined when there is no such network. */
  state(id: string, nodeId: string): NetworkState | undefined {
    if (!this.networks.has(id)) return undefined;
    const entry = this.entry(id);
    const base = (entry.built ??= this.build(id, entry));
    return {
      ...base,
      nodeAddress: this.nodes.get(nodeId)?.addresses.get(id) ?? "",
      peers: base.peers.filter((p) => p.nodeId !== nodeId),
    };
  }

  close(): void {
    this.closed = true;
    this.subscription.close();
  }

  private reload(): void {
    this.subscription.close();
    this.networks.clear();
    this.entries.clear();
    this.tasks.clear();
    this.services.clear();
    this.ingressServices.clear();
    this.nodes.clear();
    this.nodeNetworks.clear();
    this.serviceNetworks.clear();
    this.ingressId = undefined;
    this.load();
  }

  private load(): void {
    const { subscription } = this.store.viewAndWatch((tx) => this.read(tx), {
      tables: ["tasks", "services", "nodes", "networks"],
      commits: "never",
      peek: (table, object, oldObject) => {
        if (table === "tasks")
          return (object as Task).networks.length > 0 || ((oldObject as Task | undefined)?.networks.length ?? 0) > 0;
        if (table === "nodes" && oldObject !== undefined) return nodeNetworkChanged(oldObject as Node, object as Node);
        return true;
      },
    });
    this.subscription = subscription;
  }

  /**
   * The state as `tx` has it. Only the tasks of services that use networks (in their spec, with
   * virtual IPs or ingress ports) are read: a cluster without networks copies no task.
   */
  private read(tx: ReadTx): void {
    for (const n of tx.networks.find()) this.putNetwork(n);
    for (const n of tx.nodes.find()) this.nodes.set(n.id, nodeInfoOf(n));
    const using: string[] = [];
    for (const s of tx.services.find()) {
      this.putService(s.id, serviceInfoOf(s));
      const joins = (s.spec?.taskTemplate?.networks.length ?? 0) + (s.endpoint?.virtualIps.length ?? 0);
      if (joins > 0 || this.ingressServices.has(s.id)) using.push(s.id);
    }
    if (this.networks.size === 0) return;
    for (const id of using) for (const t of tx.tasks.find({ serviceId: id })) this.putTask(t.id, endpointsOf(t));
  }

  private onEvent(ev: ObjectEvent): void {
    switch (ev.table) {
      case "tasks":
        this.putTask(ev.object.id, ev.kind === "delete" ? [] : endpointsOf(ev.object));
        return;
      case "services":
        if (ev.kind === "delete") {
          this.services.delete(ev.object.id);
          if (this.ingressServices.delete(ev.object.id)) this.touchIngress();
          this.touchAll(this.serviceNetworks.get(ev.object.id));
        } else {
          this.putService(ev.object.id, serviceInfoOf(ev.object));
        }
        return;
      case "nodes": {
        const id = ev.object.id;
        const was = this.nodes.get(id);
        const now = ev.kind === "delete" ? undefined : nodeInfoOf(ev.object);
        if (now === undefined) this.nodes.delete(id);
        else this.nodes.set(id, now);
        this.touchAll(this.nodeNetworks.get(id));
        for (const info of [was, now]) {
          for (const netId of info?.addresses.keys() ?? []) this.touch(netId);
          if (info?.dataPlane === true) this.touchIngress();
        }
        return;
      }
      case "networks":
        if (ev.kind === "delete") {
          this.networks.delete(ev.object.id);
          if (this.ingressId === ev.object.id) this.ingressId = undefined;
        } else {
          this.putNetwork(ev.object);
        }
        this.touch(ev.object.id);
        return;
      default:
        return;
    }
  }

  private putNetwork(network: Network): void {
    this.networks.set(network.id, network);
    if (network.spec?.ingress === true) this.ingressId = network.id;
    else if (this.ingressId === network.id) this.ingressId = undefined;
  }

  private putService(id: string, info: ServiceInfo): void {
    this.services.set(id, info);
    const wasIngress = this.ingressServices.has(id);
    if (info.ingress) this.ingressServices.add(id);
    else this.ingressServices.delete(id);
    if (wasIngress !== info.ingress) this.touchIngress();
    this.touchAll(this.serviceNetworks.get(id));
  }

  /** Task `id` now has endpoints `now` (none: it ended, left its node or was deleted). */
  private putTask(id: string, now: readonly TaskEndpoint[]): void {
    const was = this.tasks.get(id) ?? [];
    if (was.length === 0 && now.length === 0) return;
    if (now.length === 0) this.tasks.delete(id);
    else this.tasks.set(id, now);
    for (const w of was) {
      const n = now.find((x) => x.networkId === w.networkId);
      if (n === undefined || !sameEndpoint(n.endpoint, w.endpoint)) this.removeEndpoint(w);
    }
    for (const n of now) {
      const w = was.find((x) => x.networkId === n.networkId);
      if (w === undefined || !sameEndpoint(n.endpoint, w.endpoint)) this.addEndpoint(n);
    }
  }

  private addEndpoint({ networkId, endpoint }: TaskEndpoint): void {
    const entry = this.entry(networkId);
    entry.endpoints.set(endpoint.taskId, endpoint);
    count(entry.nodes, endpoint.nodeId, 1);
    count(entry.services, endpoint.serviceId, 1);
    this.link(this.nodeNetworks, endpoint.nodeId, networkId, 1);
    this.link(this.serviceNetworks, endpoint.serviceId, networkId, 1);
    this.touch(networkId);
  }

  private removeEndpoint({ networkId, endpoint }: TaskEndpoint): void {
    const entry = this.entry(networkId);
    entry.endpoints.delete(endpoint.taskId);
    count(entry.nodes, endpoint.nodeId, -1);
    count(entry.services, endpoint.serviceId, -1);
    this.link(this.nodeNetworks, endpoint.nodeId, networkId, -1);
    this.link(this.serviceNetworks, endpoint.serviceId, networkId, -1);
    this.touch(networkId);
  }

  private link(map: Map<string, Map<string, number>>, key: string, networkId: string, delta: number): void {
    let inner = map.get(key);
    if (inner === undefined) map.set(key, (inner = new Map()));
    count(inner, networkId, delta);
    if (inner.size === 0) map.delete(key);
  }

  private entry(id: string): NetworkEntry {
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = { version: ++this.clock, endpoints: new Map(), nodes: new Map(), services: new Map(), built: undefined };
      this.entries.set(id, entry);
    }
    return entry;
  }

  private touch(id: string): void {
    const entry = this.entry(id);
    entry.version = ++this.clock;
    entry.built = undefined;
  }

  private touchAll(networks: ReadonlyMap<string, number> | undefined): void {
    for (const id of networks?.keys() ?? []) this.touch(id);
  }

  private touchIngress(): void {
    if (this.ingressId !== undefined) this.touch(this.ingressId);
  }

  private build(id: string, entry: NetworkEntry): NetworkState {
    const peerIds = new Set(entry.nodes.keys());
    if (id === this.ingressId)
      for (const [nodeId, info] of this.nodes) if (info.dataPlane && info.addresses.has(id)) peerIds.add(nodeId);
    const peers: NetworkPeer[] = [...peerIds].sort(byId).map((nodeId) => {
      const info = this.nodes.get(nodeId);
      return { nodeId, dataPathAddr: info?.dataPathAddr ?? "", nodeAddress: info?.addresses.get(id) ?? "" };
    });
    const services: NetworkService[] = [];
    for (const serviceId of [...entry.services.keys()].sort(byId)) {
      const s = this.services.get(serviceId);
      if (s === undefined) continue; // removed while its tasks end
      services.push({
        serviceId,
        name: s.name,
        aliases: [...(s.aliases.get(id) ?? [])],
        mode: s.mode,
        virtualIp: s.virtualIps.get(id) ?? "",
        ports: [...s.ports],
      });
    }
    const endpoints = [...entry.endpoints.values()].sort((a, b) => byId(a.taskId, b.taskId));
    return { network: this.networks.get(id), nodeAddress: "", peers, endpoints, services };
  }
}

const shared = new WeakMap<MemoryStore, { index: NetworkIndex; users: number }>();

/** A lease on the store's shared index, made by its first user and closed after its last. */
export interface NetworkIndexLease {
  readonly index: NetworkIndex;
  release(): void;
}

export function leaseNetworkIndex(store: MemoryStore): NetworkIndexLease {
  let holder = shared.get(store);
  if (holder === undefined) shared.set(store, (holder = { index: new NetworkIndex(store), users: 0 }));
  holder.users++;
  const h = holder;
  let released = false;
  return {
    index: h.index,
    release: () => {
      if (released) return;
      released = true;
      if (--h.users > 0) return;
      h.index.close();
      if (shared.get(store) === h) shared.delete(store);
    },
  };
}
