// The store's vocabulary: its tables, the objects they hold, and the events a watch delivers.
import type { Cluster, Config, Meta, Network, Node, Secret, Service, Task } from "@shoal/shared";

/** The object type each table holds. */
export interface TableTypes {
  nodes: Node;
  services: Service;
  tasks: Task;
  clusters: Cluster;
  secrets: Secret;
  configs: Config;
  networks: Network;
}

export type TableName = keyof TableTypes;

/**
 * The tables in their fixed order (snapshots and events of one entry follow it where order is free).
 * Tables added later go last: a state without their objects encodes as it did before them.
 */
export const TABLE_NAMES: readonly TableName[] = [
  "clusters",
  "nodes",
  "services",
  "tasks",
  "secrets",
  "configs",
  "networks",
];

/** What every stored object has: an id and a meta kept by the store. */
export interface StoreObject {
  id: string;
  meta: Meta | undefined;
}

export type ObjectEventKind = "create" | "update" | "delete";

interface EventBase<K extends TableName> {
  /** Raft index of the entry that made the change. */
  readonly index: number;
  readonly table: K;
}

/** A change to one object, as one applied entry made it. The objects are the subscriber's own copies. */
export type ObjectEvent = {
  [K in TableName]:
    | (EventBase<K> & { readonly kind: "create"; readonly object: TableTypes[K] })
    | (EventBase<K> & { readonly kind: "update"; readonly object: TableTypes[K]; readonly oldObject: TableTypes[K] })
    | (EventBase<K> & { readonly kind: "delete"; readonly object: TableTypes[K] });
}[TableName];

/** Ends the events of one applied entry: reconcile once per commit, not once per event. */
export interface CommitEvent {
  readonly kind: "commit";
  readonly index: number;
}

/**
 * The whole state was replaced by a snapshot (restore): what a subscriber built from earlier events
 * is void; it must read the state again (`view`) and carry on with the events that follow.
 */
export interface ResyncEvent {
  readonly kind: "resync";
  readonly index: number;
}

export type StoreEvent = ObjectEvent | CommitEvent | ResyncEvent;

/** Milliseconds since the epoch as the store writes them into meta: whole milliseconds. */
export function storeTime(ms: number): Date {
  return new Date(Math.trunc(ms));
}

export function versionOf(obj: StoreObject): number {
  return obj.meta?.version?.index ?? 0;
}
