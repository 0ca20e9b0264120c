// Docker's `filters` query parameter: URL-encoded JSON, either {"key":{"value":true}} or the old
// {"key":["value"]}. Parsed into key -> values; a key the endpoint does not know is a 400, as
// Docker answers it ("Invalid filter 'foo'").
import { InvalidArgumentError } from "@shoal/shared";

export type Filters = ReadonlyMap<string, readonly string[]>;

export function parseFilters(raw: string | null, allowed: readonly string[]): Filters {
  const out = new Map<string, string[]>();
  if (raw === null || raw.trim() === "") return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err: unknown) {
    throw new InvalidArgumentError("is not valid JSON", { field: "filters", cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError("must be a JSON object", { field: "filters" });
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(`Invalid filter '${key}'`, { field: "filters" });
    let values: unknown[];
    if (Array.isArray(value)) values = value;
    else if (typeof value === "object" && value !== null)
      values = Object.entries(value as Record<string, unknown>)
        .filter(([, on]) => on === true)
        .map(([k]) => k);
    else throw new InvalidArgumentError(`filter '${key}' must be an object or an array`, { field: "filters" });
    if (values.some((v) => typeof v !== "string")) {
      throw new InvalidArgumentError(`filter '${key}' values must be strings`, { field: "filters" });
    }
    if (values.length > 0) out.set(key, values as string[]);
  }
  return out;
}

/** Docker's label filter: every `k` must be present, every `k=v` must match exactly. */
export function matchesLabels(
  labels: Readonly<Record<string, string>> | undefined,
  wanted: readonly string[] | undefined,
): boolean {
  if (!wanted) return true;
  const have = labels ?? {};
  return wanted.every((w) => {
    const eq = w.indexOf("=");
    if (eq === -1) return Object.hasOwn(have, w);
    const key = w.slice(0, eq);
    return Object.hasOwn(have, key) && have[key] === w.slice(eq + 1);
  });
}

/** Docker's name/id filters match prefixes; any one value matching is enough. */
export function matchesPrefix(value: string, wanted: readonly string[] | undefined): boolean {
  return !wanted || wanted.some((w) => value.startsWith(w));
}
