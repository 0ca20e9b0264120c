// The small conversions that Docker's ServiceSpec JSON and Shoal's ServiceSpec share: whole
// numbers, nanoseconds <-> Durations, enum names <-> enum values, and Docker's habit of omitting
// empty fields. Pure; the errors name the Docker field at fault.
import { InvalidArgumentError, type Duration } from "@shoal/shared";

export const NS_PER_S = 1_000_000_000;

/** The reverse of a name -> value table: value -> name. */
export function invert<K extends string, V>(table: Record<K, V>): Map<V, K> {
  return new Map((Object.entries(table) as [K, V][]).map(([k, v]) => [v, k]));
}

/** The value that `table` gives the name `value`; InvalidArgumentError on `field` when none. */
export function pick<T>(table: Record<string, T>, value: string, field: string): T {
  const found = Object.hasOwn(table, value) ? table[value] : undefined;
  if (found === undefined) {
    throw new InvalidArgumentError(`"${value}" is not one of ${Object.keys(table).join(", ")}`, { field });
  }
  return found;
}

/** `value` (0 when unset) when it is a safe whole number of at least 0; InvalidArgumentError otherwise. */
export function whole(value: number | undefined, field: string): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`must be a whole number of at least 0, not ${n}`, { field });
  }
  return n;
}

/** Docker's nanoseconds as a Duration; undefined when unset (or null). */
export function duration(ns: number | undefined, field: string): Duration | undefined {
  if (ns === undefined || ns === null) return undefined;
  const n = whole(ns, field);
  return { seconds: Math.floor(n / NS_PER_S), nanos: n % NS_PER_S };
}

/** A Duration as Docker's nanoseconds; undefined when unset. */
export function nanos(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * NS_PER_S + d.nanos;
}

/** Copies the entries whose value is not undefined (Docker omits empty fields). */
export function defined<R>(o: Record<string, unknown>): R {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;
}

export const nonZero = (n: number | undefined): number | undefined => (n ? n : undefined);
export const nonEmpty = <T>(a: readonly T[] | undefined): T[] | undefined => (a && a.length > 0 ? [...a] : undefined);

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
