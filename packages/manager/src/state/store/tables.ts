// The tables together, and the mapping between tables and the StoreAction oneof.
import { InvalidArgumentError, type StoreAction, type StoreActionKind, type StoreActionTarget } from "@shoal/shared";
import { clusterSchema, createClusterTable, type ClusterQuery } from "./clusters.js";
import { configSchema, createConfigTable, type ConfigQuery } from "./configs.js";
import { createNetworkTable, networkSchema, type NetworkQuery } from "./networks.js";
import { createNodeTable, nodeSchema, type NodeQuery } from "./nodes.js";
import { createSecretTable, secretSchema, type SecretQuery } from "./secrets.js";
import { createServiceTable, serviceSchema, type ServiceQuery } from "./services.js";
import type { Table, TableSchema } from "./table.js";
import { createTaskTable, taskSchema, type TaskQuery } from "./tasks.js";
import type { TableName, TableTypes } from "./types.js";

export interface QueryTypes {
  nodes: NodeQuery;
  services: ServiceQuery;
  tasks: TaskQuery;
  clusters: ClusterQuery;
  secrets: SecretQuery;
  configs: ConfigQuery;
  networks: NetworkQuery;
}

export type Tables = { readonly [K in TableName]: Table<TableTypes[K], QueryTypes[K]> };

export const SCHEMAS: { readonly [K in TableName]: TableSchema<TableTypes[K], QueryTypes[K]> } = {
  nodes: nodeSchema,
  services: serviceSchema,
  tasks: taskSchema,
  clusters: clusterSchema,
  secrets: secretSchema,
  configs: configSchema,
  networks: networkSchema,
};

/** A deep copy of an object of `table`. */
export function copyObject<K extends TableName>(table: K, obj: TableTypes[K]): TableTypes[K] {
  return (SCHEMAS[table] as unknown as TableSchema<TableTypes[K], unknown>).copy(obj);
}

export function createTables(): Tables {
  return {
    nodes: createNodeTable(),
    services: createServiceTable(),
    tasks: createTaskTable(),
    clusters: createClusterTable(),
    secrets: createSecretTable(),
    configs: createConfigTable(),
    networks: createNetworkTable(),
  };
}

/** One object of one table, typed together. */
export type TableObject = { [K in TableName]: { readonly table: K; readonly object: TableTypes[K] } }[TableName];

export function toTarget(change: TableObject): StoreActionTarget {
  switch (change.table) {
    case "nodes":
      return { $case: "node", value: change.object };
    case "services":
      return { $case: "service", value: change.object };
    case "tasks":
      return { $case: "task", value: change.object };
    case "clusters":
      return { $case: "cluster", value: change.object };
    case "secrets":
      return { $case: "secret", value: change.object };
    case "configs":
      return { $case: "config", value: change.object };
    case "networks":
      return { $case: "network", value: change.object };
  }
}

export function fromTarget(target: StoreAction["target"]): TableObject {
  switch (target?.$case) {
    case "node":
      return { table: "nodes", object: target.value };
    case "service":
      return { table: "services", object: target.value };
    case "task":
      return { table: "tasks", object: target.value };
    case "cluster":
      return { table: "clusters", object: target.value };
    case "secret":
      return { table: "secrets", object: target.value };
    case "config":
      return { table: "configs", object: target.value };
    case "network":
      return { table: "networks", object: target.value };
    case undefined:
      throw new InvalidArgumentError("store action without a target", { field: "target" });
  }
}

export function storeAction(kind: StoreActionKind, change: TableObject): StoreAction {
  return { kind, target: toTarget(change) };
}
