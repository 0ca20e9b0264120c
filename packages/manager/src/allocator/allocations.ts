// The allocator's memory: an address pool per network, what each owner (a task, a service's
// virtual IPs, a node) holds, and the ingress published ports. Built from the store at each term
// of leadership and kept in step with its events (`sync*`: an owner holds exactly what its object
// in the store says); `take`/`release` change it while a transaction is planned, each recorded in
// a Journal so that a transaction that does not commit leaves nothing behind.
import type { Logger, Network, PortProtocol } from "@shoal/shared";
import { AddressPool } from "./address-pool.js";
import { PortPool } from "./port-pool.js";

/** Who holds an address: "t:ID" (a task), "s:ID" (a service's virtual IPs), "n:ID" (a node). */
export type Owner = string;
export const taskOwner = (id: string): Owner => `t:${id}`;
export const serviceOwner = (id: string): Owner => `s:${id}`;
export const nodeOwner = (id: string): Owner => `n:${id}`;

/** What an allocation waits for: a network (its id), the ingress network, or a published port. */
export type Blocker = string;
export const INGRESS: Blocker = "\u0000ingress";
export const PORTS: Blocker = "\u0000ports";

/** An address on a network as objects carry it: "10.0.1.5/24". */
export interface Placed {
  readonly networkId: string;
  readonly cidr: string;
}

interface Holding {
  readonly networkId: string;
  readonly address: number;
}

/** Undoes, newest first, what was changed in memory for a write that did not happen. */
export class Journal {
  private readonly undos: Array<() => void> = [];

  add(undo: () => void): void {
    this.undos.push(undo);
  }

  /** Keeps `other`'s changes as part of this journal. */
  adopt(other: Journal): void {
    this.undos.push(...other.undos);
    other.undos.length = 0;
  }

  undo(): void {
    for (let i = this.undos.length - 1; i >= 0; i--) this.undos[i]!();
    this.undos.length = 0;
  }
}

export class Allocations {
  private readonly pools = new Map<string, AddressPool>();
  private readonly holdings = new Map<Owner, Holding[]>();
  private readonly ports = new PortPool();
  /** Service id -> the ingress ports it holds, as [protocol, port]. */
  private readonly portHoldings = new Map<string, Array<readonly [PortProtocol, number]>>();
  private ingress: string | undefined;

  constructor(
    private readonly logger: Logger,
    /** An address of this network (or a port: PORTS) was freed: what waited for one may go on. */
    private readonly freed: (blocker: Blocker) => void,
  ) {}

  pool(networkId: string): AddressPool | undefined {
    return this.pools.get(networkId);
  }

  get ingressId(): string | undefined {
    return this.ingress;
  }

  /** A network created or changed; true when its pool is new or different (what waited may go on). */
  setNetwork(network: Network): boolean {
    if (network.spec?.ingress === true) this.ingress = network.id;
    else if (this.ingress === network.id) this.ingress = undefined;
    const pool = AddressPool.of(network);
    const before = this.pools.get(network.id);
    if (pool === undefined) {
      this.pools.delete(network.id);
      return false;
    }
    if (before !== undefined && before.sameLayout(pool)) return false;
    this.pools.set(network.id, pool);
    // A new layout (rare): what owners hold on the network moves to the new pool.
    if (before !== undefined) {
      for (const [owner, held] of this.holdings) {
        for (const h of held) if (h.networkId === network.id) pool.claim(h.address, owner);
      }
    }
    pool.startAfterHighest();
    return true;
  }

  deleteNetwork(id: string): void {
    this.pools.delete(id);
    if (this.ingress === id) this.ingress = undefined;
  }

  /** Sets what `owner` holds to exactly `placed` (from its object in the store). */
  syncAddresses(owner: Owner, placed: readonly Placed[], conflictLevel: "warn" | "debug" = "debug"): void {
    const wanted: Holding[] = [];
    for (const p of placed) {
      const address = this.pools.get(p.networkId)?.addressOf(p.cidr);
      if (address !== undefined) wanted.push({ networkId: p.networkId, address });
    }
    const old = this.holdings.get(owner) ?? [];
    for (const h of old) {
      if (wanted.some((w) => w.networkId === h.networkId && w.address === h.address)) continue;
      this.pools.get(h.networkId)?.release(h.address, owner);
      this.freed(h.networkId);
    }
    const kept: Holding[] = [];
    for (const w of wanted) {
      const pool = this.pools.get(w.networkId)!;
      if (pool.claim(w.address, owner)) kept.push(w);
      else {
        this.logger[conflictLevel](
          { owner, network: pool.name, address: pool.format(w.address), holder: pool.holder(w.address) ?? "gateway" },
          "address held twice: the first holder keeps it",
        );
      }
    }
    if (kept.length > 0) this.holdings.set(owner, kept);
    else this.holdings.delete(owner);
  }

  /** The next free address of the network for `owner`; undefined when none is left (or no such network). */
  take(owner: Owner, networkId: string, journal: Journal): number | undefined {
    const pool = this.pools.get(networkId);
    const last = pool?.last ?? 0;
    const address = pool?.take(owner);
    if (pool === undefined || address === undefined) return undefined;
    const held = this.holdings.get(owner) ?? [];
    const holding = { networkId, address };
    this.holdings.set(owner, [...held, holding]);
    journal.add(() => {
      pool.release(address, owner);
      pool.startAfter(last); // an undone take leaves no trace
      this.setHeld(
        owner,
        (this.holdings.get(owner) ?? []).filter((h) => h !== holding),
      );
    });
    return address;
  }

  /** Frees what `owner` holds except `keep` (cidrs per network), for a new allocation. */
  releaseExcept(owner: Owner, keep: readonly Placed[], journal: Journal): void {
    const held = this.holdings.get(owner) ?? [];
    const kept: Holding[] = [];
    for (const h of held) {
      const pool = this.pools.get(h.networkId);
      if (pool !== undefined && keep.some((k) => k.networkId === h.networkId && pool.addressOf(k.cidr) === h.address)) {
        kept.push(h);
        continue;
      }
      pool?.release(h.address, owner);
      this.freed(h.networkId);
      journal.add(() => pool?.claim(h.address, owner));
    }
    this.setHeld(owner, kept);
    journal.add(() => this.setHeld(owner, held));
  }

  private setHeld(owner: Owner, held: Holding[]): void {
    if (held.length > 0) this.holdings.set(owner, held);
    else this.holdings.delete(owner);
  }

  /** The service holding an ingress published port, if any. */
  portHolder(protocol: PortProtocol, port: number): string | undefined {
    return this.ports.holder(protocol, port);
  }

  /** Sets the ingress ports `serviceId` holds to exactly `ports` (from its endpoint in the store). */
  syncPorts(serviceId: string, ports: ReadonlyArray<readonly [PortProtocol, number]>): void {
    for (const [protocol, port] of this.portHoldings.get(serviceId) ?? []) {
      if (ports.some(([p, n]) => p === protocol && n === port)) continue;
      this.ports.release(protocol, port, serviceId);
      this.freed(PORTS);
    }
    const kept = ports.filter(([protocol, port]) => {
      if (this.ports.claim(protocol, port, serviceId)) return true;
      this.logger.debug({ serviceId, port, holder: this.ports.holder(protocol, port) }, "published port held twice");
      return false;
    });
    if (kept.length > 0) this.portHoldings.set(serviceId, [...kept]);
    else this.portHoldings.delete(serviceId);
  }

  /** Sets the service's ports to `ports` within a transaction being planned: claims, gives, frees. */
  setPorts(serviceId: string, ports: ReadonlyArray<readonly [PortProtocol, number]>, journal: Journal): void {
    const before = this.portHoldings.get(serviceId) ?? [];
    for (const [protocol, port] of before) {
      if (ports.some(([p, n]) => p === protocol && n === port)) continue;
      this.ports.release(protocol, port, serviceId);
      this.freed(PORTS);
      journal.add(() => this.ports.claim(protocol, port, serviceId));
    }
    for (const [protocol, port] of ports) {
      if (this.ports.holder(protocol, port) === serviceId) continue;
      this.ports.claim(protocol, port, serviceId);
      journal.add(() => this.ports.release(protocol, port, serviceId));
    }
    if (ports.length > 0) this.portHoldings.set(serviceId, [...ports]);
    else this.portHoldings.delete(serviceId);
    journal.add(() => {
      if (before.length > 0) this.portHoldings.set(serviceId, before);
      else this.portHoldings.delete(serviceId);
    });
  }

  /** A free port of the dynamic range for `serviceId` (held until setPorts or the journal's undo). */
  takePort(protocol: PortProtocol, serviceId: string, journal: Journal): number | undefined {
    const port = this.ports.take(protocol, serviceId);
    if (port !== undefined) journal.add(() => this.ports.release(protocol, port, serviceId));
    return port;
  }

  /**
   * After a rebuild from the store: each pool goes on after the address of `latest` (the one
   * last given, as far as the store tells: see the allocator's reset), else after the highest one
   * held; the ports after the highest one held.
   */
  startAfterLatest(latest: ReadonlyMap<string, Placed>): void {
    for (const [id, pool] of this.pools) {
      const p = latest.get(id);
      const address = p === undefined ? undefined : pool.addressOf(p.cidr);
      if (address === undefined) pool.startAfterHighest();
      else pool.startAfter(address);
    }
    this.ports.startAfterHighest();
  }
}
