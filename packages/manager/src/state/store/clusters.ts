// The clusters table: by id and by name (unique). There is one cluster object in practice.
import { Cluster } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export type ClusterQuery = NamedQuery;

export function clusterName(cluster: Cluster): string | undefined {
  return nonEmpty(cluster.spec?.annotations?.name);
}

export function copyCluster(cluster: Cluster): Cluster {
  const copy = Cluster.fromPartial(cluster);
  ownMetaDates(copy.meta);
  return copy;
}

export const clusterSchema: TableSchema<Cluster, ClusterQuery> = {
  table: "clusters",
  kind: "cluster",
  indexes: [{ name: "name", key: clusterName }],
  uniqueName: clusterName,
  copy: copyCluster,
  lookups: namedLookups,
  matches: (cluster, q) => namedMatches(cluster.id, clusterName(cluster), q),
};

export function createClusterTable(): Table<Cluster, ClusterQuery> {
  return new Table(clusterSchema);
}
