// The query fields every table understands, and the helpers the table files build on.
import type { Meta } from "@shoal/shared";
import type { Lookup } from "./table.js";

/** Fields of a query are ANDed; a query with no field matches everything. */
export interface BaseQuery {
  /** Ids starting with this (the CLI's short ids). Scans the candidates. */
  readonly idPrefix?: string | undefined;
}

export interface NamedQuery extends BaseQuery {
  /** Exactly this name (indexed). */
  readonly name?: string | undefined;
  /** Names starting with this. Scans the candidates. */
  readonly namePrefix?: string | undefined;
}

export function namedLookups(q: NamedQuery): Lookup[] {
  return q.name === undefined ? [] : [{ index: "name", key: q.name }];
}

export function namedMatches(id: string, name: string | undefined, q: NamedQuery): boolean {
  if (q.idPrefix !== undefined && !id.startsWith(q.idPrefix)) return false;
  if (q.name !== undefined && name !== q.name) return false;
  if (q.namePrefix !== undefined && (name === undefined || !name.startsWith(q.namePrefix))) return false;
  return true;
}

/** Empty names are no names: they are neither indexed nor unique. */
export function nonEmpty(name: string | undefined): string | undefined {
  return name === undefined || name === "" ? undefined : name;
}

/** Gives a copy made by `X.fromPartial` its own Dates (fromPartial copies everything but Dates). */
export function ownDate(date: Date | undefined): Date | undefined {
  return date === undefined ? undefined : new Date(date.getTime());
}

export function ownMetaDates(meta: Meta | undefined): void {
  if (meta === undefined) return;
  meta.createdAt = ownDate(meta.createdAt);
  meta.updatedAt = ownDate(meta.updatedAt);
}
