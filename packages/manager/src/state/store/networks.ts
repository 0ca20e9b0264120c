// The networks table: by id and by name; a network's name is unique among networks.
import { Network } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export type NetworkQuery = NamedQuery;

export function networkName(network: Network): string | undefined {
  return nonEmpty(network.spec?.annotations?.name);
}

export function copyNetwork(network: Network): Network {
  const copy = Network.fromPartial(network);
  ownMetaDates(copy.meta);
  return copy;
}

export const networkSchema: TableSchema<Network, NetworkQuery> = {
  table: "networks",
  kind: "network",
  indexes: [{ name: "name", key: networkName }],
  uniqueName: networkName,
  copy: copyNetwork,
  lookups: namedLookups,
  matches: (network, q) => namedMatches(network.id, networkName(network), q),
};

export function createNetworkTable(): Table<Network, NetworkQuery> {
  return new Table(networkSchema);
}
