// What secrets and configs share in the Control API: find by id, unique id prefix or name; list
// with filters; create; update (labels only, as Swarm); remove (refused while a service uses it).
// secrets.ts and configs.ts wrap these in their requests and responses (and secrets.ts takes the
// data out of every answer).
import {
  ErrorCode,
  InvalidArgumentError,
  NotFoundError,
  ShoalError,
  newId,
  type Annotations,
  type Secret,
  type SecretFilters,
  type Service,
  type Version,
} from "@shoal/shared";
import type { MemoryStore, ReadTx, SecretQuery, TableWriter, WriteTx } from "../state/store/index.js";
import { resolveRef } from "./resolve.js";
import { validateLabelKeys } from "./validate-labels.js";
import { validateSecretLikeSpec, type SecretKind, type SecretLikeSpec } from "./validate-secret.js";

/** A secret or a config (the two have the same shape). */
export type SecretLike = Secret;

/** Client writes carry the version they read: their conflicts are the client's to see. */
const PIPELINED = { pipelined: true } as const;

function tableOf(tx: WriteTx, kind: SecretKind): TableWriter<SecretLike, SecretQuery>;
function tableOf(tx: ReadTx, kind: SecretKind): Pick<TableWriter<SecretLike, SecretQuery>, "get" | "find">;
function tableOf(tx: ReadTx | WriteTx, kind: SecretKind): TableWriter<SecretLike, SecretQuery> {
  return (kind === "secret" ? tx.secrets : tx.configs) as TableWriter<SecretLike, SecretQuery>;
}

export function nameOf(obj: SecretLike): string {
  return obj.spec?.annotations?.name ?? "";
}

export function findSecretLike(tx: ReadTx, kind: SecretKind, ref: string): SecretLike {
  const table = tableOf(tx, kind);
  return resolveRef(
    kind,
    ref,
    (id) => table.get(id),
    (name) => table.find({ name })[0],
    (prefix) => table.find({ idPrefix: prefix }),
  );
}

/** The ids of the secrets (or configs) a service's spec references. */
export function referencedIds(service: Service, kind: SecretKind): string[] {
  const c = service.spec?.taskTemplate?.container;
  return kind === "secret" ? (c?.secrets ?? []).map((r) => r.secretId) : (c?.configs ?? []).map((r) => r.configId);
}

export async function createSecretLike(store: MemoryStore, kind: SecretKind, spec: SecretLikeSpec | undefined) {
  const checked = validateSecretLikeSpec(kind, spec);
  const id = newId();
  await store.update((tx) => tableOf(tx, kind).create({ id, meta: undefined, spec: checked }), PIPELINED);
  return committed(store, kind, id);
}

/** Also networks' filters (NetworkFilters has the same fields). */
export function matchesSecretFilters(
  obj: { readonly id: string; readonly spec?: { readonly annotations?: Annotations | undefined } | undefined },
  filters: SecretFilters | undefined,
): boolean {
  if (!filters) return true;
  const name = obj.spec?.annotations?.name ?? "";
  // As SwarmKit: names, name prefixes and id prefixes together are alternatives; labels all apply.
  const alternatives = filters.names.length + filters.namePrefixes.length + filters.idPrefixes.length;
  if (
    alternatives > 0 &&
    !filters.names.includes(name) &&
    !filters.namePrefixes.some((p) => name.startsWith(p)) &&
    !filters.idPrefixes.some((p) => obj.id.startsWith(p))
  )
    return false;
  const labels = obj.spec?.annotations?.labels ?? {};
  for (const [key, value] of Object.entries(filters.labels)) {
    if (!(key in labels) || (value !== "" && labels[key] !== value)) return false;
  }
  return true;
}

export function listSecretLike(store: MemoryStore, kind: SecretKind, filters: SecretFilters | undefined): SecretLike[] {
  const found = store.view((tx) => tableOf(tx, kind).find()).filter((o) => matchesSecretFilters(o, filters));
  found.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  return found;
}

/**
 * Changes the labels of a secret (or config): the name and data cannot change (Swarm's rule).
 * A spec without data keeps the data (a secret's is never returned, so clients send none back).
 */
export async function updateSecretLike(
  store: MemoryStore,
  kind: SecretKind,
  ref: string,
  version: Version | undefined,
  spec: SecretLikeSpec | undefined,
): Promise<SecretLike> {
  if (!version) throw new InvalidArgumentError("is required", { field: `${kind}_version` });
  if (!spec) throw new InvalidArgumentError("is required", { field: "spec" });
  validateLabelKeys(spec.annotations?.labels, "spec.annotations.labels");
  const id = await store.update((tx) => {
    const table = tableOf(tx, kind);
    const current = findSecretLike(tx, kind, ref);
    if ((spec.annotations?.name ?? "") !== nameOf(current)) {
      throw new InvalidArgumentError(`a ${kind} cannot be renamed: only its labels may change`, {
        field: "spec.annotations.name",
      });
    }
    const data = current.spec?.data ?? new Uint8Array();
    if (spec.data.length > 0 && !Buffer.from(spec.data).equals(Buffer.from(data))) {
      throw new InvalidArgumentError(`a ${kind}'s data cannot change: only its labels may (create a new ${kind})`, {
        field: "spec.data",
      });
    }
    table.update({
      ...current,
      meta: { ...current.meta!, version },
      spec: { annotations: { name: nameOf(current), labels: { ...spec.annotations?.labels } }, data },
    });
    return current.id;
  }, PIPELINED);
  return committed(store, kind, id);
}

/** The object as committed (with its version), read after the update. */
function committed(store: MemoryStore, kind: SecretKind, id: string): SecretLike {
  const obj = store.view((tx) => tableOf(tx, kind).get(id));
  if (obj === undefined) throw new NotFoundError(kind, id); // removed right after: as if never seen
  return obj;
}

/** Removes a secret (or config) that no service uses (FAILED_PRECONDITION naming the services otherwise). */
export async function removeSecretLike(store: MemoryStore, kind: SecretKind, ref: string): Promise<void> {
  await store.update((tx) => {
    const current = findSecretLike(tx, kind, ref);
    const users = tx.services
      .find()
      .filter((s) => referencedIds(s, kind).includes(current.id))
      .map((s) => s.spec?.annotations?.name ?? s.id)
      .sort();
    if (users.length > 0) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `${kind} ${nameOf(current)} is in use by ${users.length === 1 ? "service" : "services"} ${users.join(", ")}`,
        { details: { kind, id: current.id, services: users.join(",") } },
      );
    }
    tableOf(tx, kind).delete(current.id);
  }, PIPELINED);
}
