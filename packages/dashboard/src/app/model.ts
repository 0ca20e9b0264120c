// The cluster as the page holds it: nodes, services and tasks by id, each in its own signal, so
// that a change re-renders only the rows that show it. /api/v1/state fills it, each ChangeBatch of
// /api/v1/watch changes it; flush() then updates the orderings and the per-node and per-service
// figures for what changed.
import { signal, type ReadonlySignal, type Signal } from "@preact/signals";
import type { ChangeBatch, NodeView, ServiceView, StateSnapshot, TaskView } from "../api.js";

/** What a node's tasks take: their count, and the CPU and memory its running tasks reserve. */
export interface NodeUsage {
  readonly tasks: number;
  readonly nanoCpus: number;
  readonly memoryBytes: number;
}

/** A service's tasks: how many run, and how many should. */
export interface ServiceReplicas {
  readonly running: number;
  readonly desired: number;
}

const TERMINAL = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]);

/** A task /api/v1/state lists: its desired state is running or before, or it is not yet terminal. */
export function isCurrentTask(task: TaskView): boolean {
  return !TERMINAL.has(task.desiredState) || !TERMINAL.has(task.state);
}

/** Objects by id, each in a signal, and their ids in display order (updated by flush()). */
export class Table<T extends { readonly id: string }> {
  private readonly rows = new Map<string, Signal<T>>();
  private readonly order = signal<readonly string[]>([]);
  private reorder = false;

  constructor(private readonly sortKey: (object: T) => string) {}

  /** The ids in display order. */
  get ids(): ReadonlySignal<readonly string[]> {
    return this.order;
  }

  get size(): number {
    return this.rows.size;
  }

  row(id: string): ReadonlySignal<T> | undefined {
    return this.rows.get(id);
  }

  get(id: string): T | undefined {
    return this.rows.get(id)?.peek();
  }

  values(): IterableIterator<Signal<T>> {
    return this.rows.values();
  }

  upsert(object: T): T | undefined {
    const row = this.rows.get(object.id);
    if (!row) {
      this.rows.set(object.id, signal(object));
      this.reorder = true;
      return undefined;
    }
    const old = row.peek();
    if (this.sortKey(old) !== this.sortKey(object)) this.reorder = true;
    row.value = object;
    return old;
  }

  remove(id: string): T | undefined {
    const old = this.rows.get(id)?.peek();
    if (old) {
      this.rows.delete(id);
      this.reorder = true;
    }
    return old;
  }

  clear(): void {
    this.rows.clear();
    this.reorder = true;
  }

  flush(): void {
    if (!this.reorder) return;
    this.reorder = false;
    this.order.value = sortBy([...this.rows.keys()], (id) => this.sortKey(this.rows.get(id)!.peek()));
  }
}

/** Task ids grouped by a key (node or service), with a signal per key that holds the group's ids. */
class Grouping {
  private readonly members = new Map<string, Set<string>>();
  private readonly lists = new Map<string, Signal<readonly string[]>>();
  private readonly touched = new Set<string>();

  /** order: the display order of a group's ids. */
  constructor(private readonly order: (ids: Iterable<string>) => string[]) {}

  add(key: string, id: string): void {
    let set = this.members.get(key);
    if (!set) this.members.set(key, (set = new Set()));
    set.add(id);
    this.touched.add(key);
  }

  delete(key: string, id: string): void {
    this.members.get(key)?.delete(id);
    this.touched.add(key);
  }

  /** Marks a key whose members changed (for the figures computed over them). */
  touch(key: string): void {
    this.touched.add(key);
  }

  ids(key: string): ReadonlySet<string> {
    return this.members.get(key) ?? new Set();
  }

  list(key: string): ReadonlySignal<readonly string[]> {
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = signal(this.order(this.ids(key)))));
    return list;
  }

  clear(): void {
    for (const key of this.members.keys()) this.touched.add(key);
    this.members.clear();
  }

  /** The keys touched since the last call; updates their lists. */
  drain(): string[] {
    const keys = [...this.touched];
    this.touched.clear();
    for (const key of keys) {
      const list = this.lists.get(key);
      if (!list) continue;
      const next = this.order(this.ids(key));
      const old = list.peek();
      if (next.length !== old.length || next.some((id, i) => id !== old[i])) list.value = next;
    }
    return keys;
  }
}

export interface ClusterInfo {
  readonly clusterId: string;
  readonly managerNodeId: string;
  readonly isLeader: boolean;
}

export class ClusterModel {
  readonly nodes = new Table<NodeView>((node) => `${node.hostname}\0${node.id}`);
  readonly services = new Table<ServiceView>((service) => `${service.name}\0${service.id}`);
  readonly tasks = new Table<TaskView>(taskSortKey);
  readonly info = signal<ClusterInfo | undefined>(undefined);
  /** The store index the model is at. */
  index = 0;
  private readonly byNode = new Grouping((ids) => this.ordered(ids));
  private readonly byService = new Grouping((ids) => this.ordered(ids));
  private readonly usage = new Map<string, Signal<NodeUsage>>();
  private readonly replicas = new Map<string, Signal<ServiceReplicas>>();

  load(snapshot: StateSnapshot): void {
    for (const table of [this.nodes, this.services, this.tasks]) table.clear();
    this.byNode.clear();
    this.byService.clear();
    this.info.value = {
      clusterId: snapshot.clusterId,
      managerNodeId: snapshot.managerNodeId,
      isLeader: snapshot.isLeader,
    };
    for (const node of snapshot.nodes) this.nodes.upsert(node);
    for (const service of snapshot.services) this.upsertService(service);
    for (const task of snapshot.tasks) this.upsertTask(task);
    this.index = snapshot.index;
    this.flush();
  }

  /** Applies one raft entry's changes (an old or repeated batch is ignored); flush() shows them. */
  apply(batch: ChangeBatch): void {
    if (batch.index <= this.index) return;
    this.index = batch.index;
    for (const change of batch.changes) {
      if (change.action === "remove") {
        if (change.kind === "node") this.nodes.remove(change.id);
        else if (change.kind === "service") this.removeService(change.id);
        else this.removeTask(change.id);
      } else if (change.kind === "node") this.nodes.upsert(change.object);
      else if (change.kind === "service") this.upsertService(change.object);
      else this.upsertTask(change.object);
    }
  }

  /** Updates orderings and the figures of the nodes and services whose tasks changed. */
  flush(): void {
    this.nodes.flush();
    this.services.flush();
    this.tasks.flush();
    for (const nodeId of this.byNode.drain()) {
      const usage = this.usage.get(nodeId);
      if (usage) usage.value = this.computeUsage(nodeId);
    }
    for (const serviceId of this.byService.drain()) {
      const replicas = this.replicas.get(serviceId);
      if (replicas) replicas.value = this.computeReplicas(serviceId);
    }
  }

  nodeUsage(nodeId: string): ReadonlySignal<NodeUsage> {
    let usage = this.usage.get(nodeId);
    if (!usage) this.usage.set(nodeId, (usage = signal(this.computeUsage(nodeId))));
    return usage;
  }

  serviceReplicas(serviceId: string): ReadonlySignal<ServiceReplicas> {
    let replicas = this.replicas.get(serviceId);
    if (!replicas) this.replicas.set(serviceId, (replicas = signal(this.computeReplicas(serviceId))));
    return replicas;
  }

  /** The ids of a node's tasks, in display order. */
  nodeTasks(nodeId: string): ReadonlySignal<readonly string[]> {
    return this.byNode.list(nodeId);
  }

  /** The ids of a service's tasks, in display order. */
  serviceTasks(serviceId: string): ReadonlySignal<readonly string[]> {
    return this.byService.list(serviceId);
  }

  private ordered(ids: Iterable<string>): string[] {
    return sortBy([...ids], (id) => taskSortKey(this.tasks.get(id)!));
  }

  private upsertService(service: ServiceView): void {
    this.services.upsert(service);
    this.byService.touch(service.id);
  }

  private removeService(id: string): void {
    this.services.remove(id);
    this.byService.touch(id);
  }

  private upsertTask(task: TaskView): void {
    if (!isCurrentTask(task)) {
      this.removeTask(task.id);
      return;
    }
    const old = this.tasks.upsert(task);
    if (old && old.nodeId !== task.nodeId) this.byNode.delete(old.nodeId, task.id);
    this.byNode.add(task.nodeId, task.id);
    this.byService.add(task.serviceId, task.id);
  }

  private removeTask(id: string): void {
    const old = this.tasks.remove(id);
    if (!old) return;
    this.byNode.delete(old.nodeId, id);
    this.byService.delete(old.serviceId, id);
  }

  private computeUsage(nodeId: string): NodeUsage {
    let tasks = 0;
    let nanoCpus = 0;
    let memoryBytes = 0;
    for (const id of this.byNode.ids(nodeId)) {
      const task = this.tasks.get(id);
      if (!task) continue;
      tasks++;
      if (task.state !== "running") continue;
      nanoCpus += task.reserved.nanoCpus;
      memoryBytes += task.reserved.memoryBytes;
    }
    return { tasks, nanoCpus, memoryBytes };
  }

  private computeReplicas(serviceId: string): ServiceReplicas {
    let running = 0;
    let wanted = 0;
    for (const id of this.byService.ids(serviceId)) {
      const task = this.tasks.get(id);
      if (!task) continue;
      if (task.state === "running") running++;
      if (task.desiredState === "running") wanted++;
    }
    return { running, desired: this.services.get(serviceId)?.replicas ?? wanted };
  }
}

/** Tasks sort by service, then slot (numerically), then name. */
function taskSortKey(task: TaskView): string {
  const dot = task.name.lastIndexOf(".");
  const service = dot < 0 ? task.name : task.name.slice(0, dot);
  return `${service}\0${String(task.slot).padStart(10, "0")}\0${task.name}\0${task.id}`;
}

/** Sorts ids by a key computed once for each. */
function sortBy(ids: string[], key: (id: string) => string): string[] {
  const keyed = ids.map((id) => [key(id), id] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return keyed.map(([, id]) => id);
}
