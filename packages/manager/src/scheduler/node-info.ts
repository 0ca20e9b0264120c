// What the scheduler knows of one node: its attributes, the tasks it holds and what they take
// (reservations, host ports, tasks per service), and recent failures of services on it. Kept up
// to date task by task, so a placement costs a few map operations, never a scan.
import { NodeAvailability, NodeState, type Node } from "@shoal/shared";
import { nodeAttributes, type NodeAttributes } from "./constraints.js";
import { GenericPool, sameResources } from "./generic-pool.js";
import type { TaskUsage } from "./task-rules.js";
import { managerOnly } from "../nodes/manager-node.js";

/** Failures of a service on a node within this window make the node less preferred for it. */
export const FAILURE_WINDOW_MS = 5 * 60_000;
/** ... once there are this many of them (as SwarmKit). */
export const MAX_RECENT_FAILURES = 5;

interface Held {
  readonly usage: TaskUsage;
  /** Counts as a task of its service (desired state RUNNING or below). */
  readonly active: boolean;
}

const EMPTY: NodeAttributes = {
  id: "",
  hostname: "",
  role: "worker",
  os: "",
  arch: "",
  labels: {},
  engineLabels: {},
};

export class NodeInfo {
  /** Undefined for a node that is gone (or not seen yet) while tasks still name it: never a candidate. */
  node: Node | undefined;
  attrs: NodeAttributes = EMPTY;
  /** Status READY. */
  ready = false;
  /** Availability ACTIVE (pause and drain take no new tasks). */
  active = false;
  capacityCpus = 0;
  capacityMemory = 0;
  reservedCpus = 0;
  reservedMemory = 0;
  /** Generic resources (GPUs, ...): what the node advertises and what its tasks were given. */
  readonly generic = new GenericPool();
  /** Tasks counted for spread: the active ones of every service. */
  activeTasks = 0;
  /** Stable 32-bit hash of the id: seeded shuffles mix it with their seed. */
  readonly idHash: number;

  private readonly tasks = new Map<string, Held>();
  private readonly byService = new Map<string, number>();
  private readonly ports = new Map<number, number>();
  /** service id -> task id -> time of the failure (ms). */
  private readonly failures = new Map<string, Map<string, number>>();

  constructor(
    readonly id: string,
    node?: Node,
  ) {
    this.idHash = hashString(id);
    if (node !== undefined) this.setNode(node);
  }

  setNode(node: Node | undefined): void {
    this.node = node;
    if (node === undefined) {
      this.attrs = { ...EMPTY, id: this.id };
      this.ready = this.active = false;
      this.capacityCpus = this.capacityMemory = 0;
      this.generic.setCapacity([]);
      return;
    }
    this.attrs = nodeAttributes(node);
    // A manager with no agent beside it is READY but runs nothing.
    this.ready = node.status?.state === NodeState.READY && !managerOnly(node);
    this.active = (node.spec?.availability ?? NodeAvailability.ACTIVE) === NodeAvailability.ACTIVE;
    this.capacityCpus = node.description?.resources?.nanoCpus ?? 0;
    this.capacityMemory = node.description?.resources?.memoryBytes ?? 0;
    this.generic.setCapacity(node.description?.resources?.generic ?? []);
  }

  get taskCount(): number {
    return this.tasks.size;
  }

  hasTask(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  /** Active tasks of `serviceId` on the node. */
  serviceTasks(serviceId: string): number {
    return this.byService.get(serviceId) ?? 0;
  }

  get availableCpus(): number {
    return this.capacityCpus - this.reservedCpus;
  }

  get availableMemory(): number {
    return this.capacityMemory - this.reservedMemory;
  }

  portInUse(key: number): boolean {
    return (this.ports.get(key) ?? 0) > 0;
  }

  /** Adds a task, or replaces what the node knew of it. Returns false if that changed nothing. */
  addTask(taskId: string, usage: TaskUsage, active: boolean): boolean {
    const old = this.tasks.get(taskId);
    if (old !== undefined) {
      if (old.active === active && sameUsage(old.usage, usage)) return false;
      this.account(old, -1);
    }
    const held = { usage, active };
    this.tasks.set(taskId, held);
    this.account(held, 1);
    return true;
  }

  removeTask(taskId: string): boolean {
    const old = this.tasks.get(taskId);
    if (old === undefined) return false;
    this.tasks.delete(taskId);
    this.account(old, -1);
    return true;
  }

  /** Notes that a task of `serviceId` failed here at `at` (idempotent per task). */
  recordFailure(serviceId: string, taskId: string, at: number): void {
    let byTask = this.failures.get(serviceId);
    if (byTask === undefined) this.failures.set(serviceId, (byTask = new Map()));
    byTask.set(taskId, at);
    if (byTask.size > 2 * MAX_RECENT_FAILURES) {
      // Keep the latest ones: older failures can only leave the window.
      const keep = [...byTask].sort((a, b) => b[1] - a[1]).slice(0, MAX_RECENT_FAILURES);
      byTask.clear();
      for (const [id, t] of keep) byTask.set(id, t);
    }
  }

  /** Failures of `serviceId` here within FAILURE_WINDOW_MS before `now`. */
  recentFailures(serviceId: string, now: number): number {
    const byTask = this.failures.get(serviceId);
    if (byTask === undefined) return 0;
    let n = 0;
    for (const at of byTask.values()) if (at > now - FAILURE_WINDOW_MS && at <= now) n++;
    return n;
  }

  private account(held: Held, sign: 1 | -1): void {
    const { usage } = held;
    this.reservedCpus += sign * usage.nanoCpus;
    this.reservedMemory += sign * usage.memoryBytes;
    this.generic.hold(usage.generic, sign);
    for (const port of usage.hostPorts) {
      const n = (this.ports.get(port) ?? 0) + sign;
      if (n > 0) this.ports.set(port, n);
      else this.ports.delete(port);
    }
    if (!held.active) return;
    this.activeTasks += sign;
    const n = (this.byService.get(usage.serviceId) ?? 0) + sign;
    if (n > 0) this.byService.set(usage.serviceId, n);
    else this.byService.delete(usage.serviceId);
  }
}

function sameUsage(a: TaskUsage, b: TaskUsage): boolean {
  if (a === b) return true;
  if (a.serviceId !== b.serviceId || a.nanoCpus !== b.nanoCpus || a.memoryBytes !== b.memoryBytes) return false;
  if (a.hostPorts.length !== b.hostPorts.length || !sameResources(a.generic, b.generic)) return false;
  return a.hostPorts.every((p, i) => p === b.hostPorts[i]);
}

/** FNV-1a, 32 bits. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Mixes two 32-bit values into a well-spread one (MurmurHash3's finalizer): a seeded shuffle key. */
export function mix(a: number, seed: number): number {
  let h = (a ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
