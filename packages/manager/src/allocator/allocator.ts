// The allocator (leader only): the one writer of addresses. It gives each task its attachments
// (Task.networks), each service its endpoint (ports, virtual IPs), each node with a data plane its
// ingress address (Node.attachments), and frees them when the task ends or the object is deleted.
//
// It runs on the shared ReconcileLoop: at each term it rebuilds its memory from the store (what
// every task not ended, service and node holds; see allocations.ts), then follows the store's
// events, which keep that memory in step and mark what needs allocating. A pass allocates what is
// marked, each object read again inside the transaction that writes it, in transactions of at
// most `maxWritesPerTx` objects (500). An object that cannot be allocated (a network with no free
// address, a network or the ingress network missing, a published port taken) keeps nothing and
// waits until what it needs is freed or appears; a task that waits says why in its status
// (PENDING, "pending network allocation", the reason in err).
import {
  Endpoint,
  NotFoundError,
  SequenceConflictError,
  TaskState,
  TaskStatus,
  componentLogger,
  type Clock,
  type Logger,
  type Network,
  type Node,
  type Service,
  type Task,
} from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../state/store/index.js";
import {
  Allocations,
  INGRESS,
  Journal,
  nodeOwner,
  serviceOwner,
  taskOwner,
  type Blocker,
  type Placed,
} from "./allocations.js";
import { allocateTask, endpointCurrent, nodeNeedsIngress, planEndpoint, planNodeAttachments } from "./plan.js";
import { holdsAddresses, needsAllocation, touchesNetworks } from "./task-networks.js";
import { PublishMode, type PortProtocol } from "@shoal/shared";

/** Status message of a task whose networks cannot be allocated yet (the reason is in err). */
export const ALLOCATION_MESSAGE = "pending network allocation";
/** Status message of such a task once they are. */
export const ALLOCATED_MESSAGE = "networks allocated";

export interface AllocatorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop; the status timestamps read it. */
  readonly clock: Clock;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /**
   * Objects allocated per transaction; default 500: one transaction's work (a read and a write of
   * each task) stays well under 100 ms of the event loop, and its Raft entry small.
   */
  readonly maxWritesPerTx?: number | undefined;
}

/** An object to look at: an owner key ("t:ID", "s:ID", "n:ID"). */
type Item = string;

export class Allocator {
  private readonly store: MemoryStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxWrites: number;
  private readonly loop: ReconcileLoop;
  private a: Allocations;
  private dirty = new Set<Item>();
  /** What each waiting object waits for, and the other way round. */
  private readonly blockedBy = new Map<Item, Blocker>();
  private readonly blocked = new Map<Blocker, Set<Item>>();
  /**
   * The tasks to allocate (or waiting), as last seen: a pass writes over that version (the store
   * refuses it if the task changed since, and the change's event brings it back), so a task is
   * not read again, which would copy it once more.
   */
  private readonly seen = new Map<string, Task>();
  /** The reason last logged for an object that waits (logged once per reason). */
  private readonly reasons = new Map<Item, string>();

  constructor(options: AllocatorOptions) {
    this.store = options.store;
    this.logger = componentLogger(options.logger, "allocator");
    this.clock = options.clock;
    this.maxWrites = Math.max(1, options.maxWritesPerTx ?? 500);
    this.a = this.fresh();
    this.loop = new ReconcileLoop(
      {
        tables: ["networks", "services", "nodes", "tasks"],
        // Tasks that join no network and never did are none of the allocator's business.
        peek: (table, object, old) =>
          table !== "tasks" || touchesNetworks(object as Task) || (old !== undefined && touchesNetworks(old as Task)),
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.dirty.size > 0,
        pass: (signal) => this.pass(signal),
      },
      {
        store: this.store,
        clock: this.clock,
        logger: this.logger,
        debounceMs: options.debounceMs ?? 0,
        maxDelayMs: options.maxDelayMs,
        // As the scheduler's: events wait here while a pass is written; past it, a full reread.
        capacity: 1_000_000,
      },
    );
  }

  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private fresh(): Allocations {
    return new Allocations(this.logger, (blocker) => this.unblock(blocker));
  }

  /** Reads what it needs at once; goes through the tasks in slices (there may be 100,000). */
  private reset(tx: ReadTx): Iterator<unknown> {
    this.a = this.fresh();
    this.dirty.clear();
    this.blockedBy.clear();
    this.blocked.clear();
    this.seen.clear();
    const networks = tx.networks.find();
    for (const network of networks) this.a.setNetwork(network);
    // The store's own tasks (scan, no copies): the allocator reads them and writes new objects.
    return this.load(networks.length, tx.services.find(), tx.nodes.find(), tx.tasks.scan());
  }

  private *load(
    networks: number,
    services: readonly Service[],
    nodes: readonly Node[],
    tasks: readonly Task[],
  ): Generator<undefined, void, void> {
    for (const s of services) this.syncService(s, "warn");
    for (const n of nodes) this.a.syncAddresses(nodeOwner(n.id), placedOf(n.attachments), "warn");
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.networks.length > 0 && holdsAddresses(t))
        this.a.syncAddresses(taskOwner(t.id), placedOf(t.networks), "warn");
      if (i % 1024 === 1023) yield;
    }
    this.a.startAfterLatest(this.latestGiven(tasks));
    for (const s of services) if (!endpointCurrent(this.a, s)) this.dirty.add(serviceOwner(s.id));
    for (const n of nodes) if (nodeNeedsIngress(this.a, n)) this.dirty.add(nodeOwner(n.id));
    for (const t of tasks) {
      if (!needsAllocation(t)) continue;
      this.seen.set(t.id, t);
      this.dirty.add(taskOwner(t.id));
    }
    this.logger.info({ networks, toAllocate: this.dirty.size }, "allocator loaded state");
  }

  /**
   * Per network, the address the last leader most likely gave last: that of the newest task
   * (ended ones included) that has one there, the highest of equals. The next term goes on after
   * it, so an address freed just before a leader change is not given again at once.
   */
  private latestGiven(tasks: readonly Task[]): Map<string, Placed> {
    const best = new Map<string, { at: number; address: number; placed: Placed }>();
    for (const t of tasks) {
      const at = t.meta?.createdAt?.getTime() ?? 0;
      for (const placed of placedOf(t.networks)) {
        const address = this.a.pool(placed.networkId)?.addressOf(placed.cidr);
        if (address === undefined) continue;
        const b = best.get(placed.networkId);
        if (b === undefined || at > b.at || (at === b.at && address > b.address)) {
          best.set(placed.networkId, { at, address, placed });
        }
      }
    }
    return new Map([...best].map(([id, b]) => [id, b.placed]));
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "networks":
        if (e.kind === "delete") this.a.deleteNetwork(e.object.id);
        else this.networkChanged(e.object);
        return;
      case "services": {
        const item = serviceOwner(e.object.id);
        if (e.kind === "delete") {
          this.a.syncAddresses(item, []);
          this.a.syncPorts(e.object.id, []);
          this.forget(item);
        } else {
          this.syncService(e.object, "debug");
          if (!endpointCurrent(this.a, e.object)) this.dirty.add(item);
        }
        return;
      }
      case "nodes": {
        const item = nodeOwner(e.object.id);
        if (e.kind === "delete") {
          this.a.syncAddresses(item, []);
          this.forget(item);
        } else {
          this.a.syncAddresses(item, placedOf(e.object.attachments));
          if (nodeNeedsIngress(this.a, e.object) && !this.blockedBy.has(item)) this.dirty.add(item);
        }
        return;
      }
      case "tasks": {
        const t = e.object;
        const item = taskOwner(t.id);
        const live = e.kind !== "delete";
        this.a.syncAddresses(item, live && holdsAddresses(t) ? placedOf(t.networks) : []);
        if (live && needsAllocation(t)) {
          this.seen.set(t.id, t);
          if (!this.blockedBy.has(item)) this.dirty.add(item);
        } else this.forget(item);
        return;
      }
      default:
        return;
    }
  }

  private networkChanged(network: Network): void {
    if (!this.a.setNetwork(network)) return;
    this.unblock(network.id);
    if (network.id === this.a.ingressId) this.unblock(INGRESS);
  }

  private syncService(s: Service, level: "warn" | "debug"): void {
    const e = s.endpoint;
    this.a.syncAddresses(
      serviceOwner(s.id),
      (e?.virtualIps ?? []).map((v) => ({ networkId: v.networkId, cidr: v.addr })),
      level,
    );
    const ports: Array<readonly [PortProtocol, number]> = [];
    for (const p of e?.ports ?? []) {
      if (p.publishMode === PublishMode.INGRESS && p.publishedPort !== 0) ports.push([p.protocol, p.publishedPort]);
    }
    this.a.syncPorts(s.id, ports);
  }

  private block(item: Item, blocker: Blocker): void {
    this.blockedBy.set(item, blocker);
    let set = this.blocked.get(blocker);
    if (set === undefined) this.blocked.set(blocker, (set = new Set()));
    set.add(item);
  }

  /** What waited for `blocker` is looked at again. */
  private unblock(blocker: Blocker): void {
    const items = this.blocked.get(blocker);
    if (items === undefined) return;
    this.blocked.delete(blocker);
    for (const item of items) {
      this.blockedBy.delete(item);
      this.dirty.add(item);
    }
  }

  private forget(item: Item): void {
    this.dirty.delete(item);
    if (item.startsWith("t:")) this.seen.delete(item.slice(2));
    this.reasons.delete(item);
    const blocker = this.blockedBy.get(item);
    if (blocker === undefined) return;
    this.blockedBy.delete(item);
    this.blocked.get(blocker)?.delete(item);
  }

  private async pass(signal: AbortSignal): Promise<void> {
    // Services first (their ports and virtual IPs), then nodes, then tasks.
    const order = { s: 0, n: 1, t: 2 } as Record<string, number>;
    const items = [...this.dirty].sort((x, y) => order[x[0]!]! - order[y[0]!]!);
    this.dirty = new Set();
    let allocated = 0;
    for (let i = 0; i < items.length; i += this.maxWrites) {
      const chunk = items.slice(i, i + this.maxWrites);
      const journal = new Journal();
      const waits: Array<readonly [Item, Blocker]> = [];
      try {
        allocated += await this.store.update((tx) => this.write(tx, chunk, journal, waits), { signal });
      } catch (err: unknown) {
        journal.undo();
        for (const item of items.slice(i)) this.dirty.add(item);
        throw err;
      }
      for (const [item, blocker] of waits) this.block(item, blocker);
    }
    if (allocated > 0) this.logger.debug({ allocated, looked: items.length }, "allocator pass");
  }

  /** One transaction: allocates what `items` need as the store has them now; returns how many. */
  private write(tx: WriteTx, items: readonly Item[], journal: Journal, waits: Array<readonly [Item, Blocker]>): number {
    const now = this.clock.now();
    let written = 0;
    for (const item of items) {
      const id = item.slice(2);
      switch (item[0]) {
        case "s": {
          const s = tx.services.get(id);
          if (s === undefined || endpointCurrent(this.a, s)) break;
          const out = planEndpoint(this.a, s, journal);
          if (!out.ok) {
            this.waiting(item, out.reason, out.blocker, waits, { service: s.spec?.annotations?.name });
            break;
          }
          this.reasons.delete(item);
          if (sameEndpoint(s.endpoint, out.value)) break;
          tx.services.update({ ...s, endpoint: out.value });
          written++;
          break;
        }
        case "n": {
          const n = tx.nodes.get(id);
          if (n === undefined || !nodeNeedsIngress(this.a, n)) break;
          const out = planNodeAttachments(this.a, n, journal);
          if (!out.ok) {
            this.waiting(item, out.reason, out.blocker, waits, { node: id });
            break;
          }
          this.reasons.delete(item);
          tx.nodes.update({ ...n, attachments: out.value });
          written++;
          break;
        }
        case "t": {
          const t = this.seen.get(id);
          if (t === undefined || !needsAllocation(t)) break;
          const mine = new Journal();
          const out = allocateTask(this.a, t, mine);
          if (out.ok) {
            if (!writeSeen(tx, withAllocation(t, out.value, now))) {
              mine.undo(); // changed meanwhile: its event brings it back
              break;
            }
            journal.adopt(mine);
            this.reasons.delete(item);
            written++;
            break;
          }
          this.waiting(item, out.reason, out.blocker, waits, { task: id });
          const status = t.status ?? TaskStatus.create();
          if (
            status.state !== TaskState.PENDING ||
            status.message !== ALLOCATION_MESSAGE ||
            status.err !== out.reason
          ) {
            const timestamp = new Date(now);
            writeSeen(tx, {
              ...t,
              status: { ...status, timestamp, state: TaskState.PENDING, message: ALLOCATION_MESSAGE, err: out.reason },
            });
          }
          break;
        }
      }
    }
    return written;
  }

  private waiting(
    item: Item,
    reason: string,
    blocker: Blocker,
    waits: Array<readonly [Item, Blocker]>,
    what: Record<string, unknown>,
  ): void {
    waits.push([item, blocker]);
    if (this.reasons.get(item) === reason) return;
    this.reasons.set(item, reason);
    this.logger.info({ ...what, reason }, "allocation waits");
  }
}

/** The task with its attachments; a status that said why it waited says it no longer does. */
function withAllocation(t: Task, networks: Task["networks"], now: number): Task {
  const status = t.status;
  if (status === undefined || status.message !== ALLOCATION_MESSAGE) return { ...t, networks };
  return { ...t, networks, status: { ...status, timestamp: new Date(now), message: ALLOCATED_MESSAGE, err: "" } };
}

/** Writes a task over the version it was seen at; false if the store has another (or none). */
function writeSeen(tx: WriteTx, task: Task): boolean {
  try {
    tx.tasks.update(task); // the store keeps its own copy
    return true;
  } catch (err: unknown) {
    if (err instanceof SequenceConflictError || err instanceof NotFoundError) return false;
    throw err;
  }
}

function placedOf(attachments: Node["attachments"]): Placed[] {
  return attachments.flatMap((x) => x.addresses.map((cidr) => ({ networkId: x.networkId, cidr })));
}

function sameEndpoint(a: Endpoint | undefined, b: Endpoint): boolean {
  const bytes = (x: Endpoint): string => Buffer.from(Endpoint.encode(x).finish()).toString("base64");
  return a !== undefined && bytes(a) === bytes(b);
}
