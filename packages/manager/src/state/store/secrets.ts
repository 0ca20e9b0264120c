// The secrets table: by id and by name; a secret's name is unique among secrets. The data stays
// in the store (and in Raft's encrypted log and snapshots); the Control API never returns it.
import { Secret } from "@shoal/shared";
import { namedLookups, namedMatches, nonEmpty, ownMetaDates, type NamedQuery } from "./query.js";
import { Table, type TableSchema } from "./table.js";

export type SecretQuery = NamedQuery;

export function secretName(secret: Secret): string | undefined {
  return nonEmpty(secret.spec?.annotations?.name);
}

export function copySecret(secret: Secret): Secret {
  const copy = Secret.fromPartial(secret);
  ownMetaDates(copy.meta);
  if (copy.spec !== undefined) copy.spec.data = copy.spec.data.slice(); // fromPartial shares the bytes
  return copy;
}

export const secretSchema: TableSchema<Secret, SecretQuery> = {
  table: "secrets",
  kind: "secret",
  indexes: [{ name: "name", key: secretName }],
  uniqueName: secretName,
  copy: copySecret,
  lookups: namedLookups,
  matches: (secret, q) => namedMatches(secret.id, secretName(secret), q),
};

export function createSecretTable(): Table<Secret, SecretQuery> {
  return new Table(secretSchema);
}
