// The configs table: by id and by name; a config's name is unique among configs.
import { Config } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export type ConfigQuery = NamedQuery;

export function configName(config: Config): string | undefined {
  return nonEmpty(config.spec?.annotations?.name);
}

export function copyConfig(config: Config): Config {
  const copy = Config.fromPartial(config);
  ownMetaDates(copy.meta);
  if (copy.spec !== undefined) copy.spec.data = copy.spec.data.slice(); // fromPartial shares the bytes
  return copy;
}

export const configSchema: TableSchema<Config, ConfigQuery> = {
  table: "configs",
  kind: "config",
  indexes: [{ name: "name", key: configName }],
  uniqueName: configName,
  copy: copyConfig,
  lookups: namedLookups,
  matches: (config, q) => namedMatches(config.id, configName(config), q),
};

export function createConfigTable(): Table<Config, ConfigQuery> {
  return new Table(configSchema);
}
