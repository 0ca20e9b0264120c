// Compares a JSON answer with Docker's, values aside: the same keys, with values of the same JSON
// kinds, all the way down. A null in Docker's stands for Go's nil slice, map or pointer, so an
// array or an object matches it too. Maps (labels, runtimes, ...) have keys of their own: each
// value is compared with the first of Docker's.
import { readFileSync } from "node:fs";

const kind = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Fields whose keys are free (Go maps). */
const MAPS = new Set(["Labels", "Runtimes", "IndexConfigs", "Options"]);

/** Where `value` differs from `model` in shape, as "path: why" lines; none when it has Docker's. */
export function shapeDifferences(value: unknown, model: unknown, path = "$"): string[] {
  const [got, want] = [kind(value), kind(model)];
  if (want === "null")
    return got === "null" || got === "array" || got === "object" ? [] : [`${path}: ${got}, not null`];
  if (got !== want) return [`${path}: ${got}, not ${want}`];
  if (want === "array") {
    const sample = (model as unknown[])[0];
    return sample === undefined
      ? []
      : (value as unknown[]).flatMap((v, i) => shapeDifferences(v, sample, `${path}[${i}]`));
  }
  if (want !== "object") return [];
  const a = value as Record<string, unknown>;
  const b = model as Record<string, unknown>;
  if (MAPS.has(path.slice(path.lastIndexOf(".") + 1))) {
    const sample = Object.values(b)[0];
    return sample === undefined
      ? []
      : Object.entries(a).flatMap(([k, v]) => shapeDifferences(v, sample, `${path}.${k}`));
  }
  return [
    ...Object.keys(b)
      .filter((k) => !(k in a))
      .map((k) => `${path}.${k}: missing`),
    ...Object.keys(a)
      .filter((k) => !(k in b))
      .map((k) => `${path}.${k}: not in Docker's`),
    ...Object.keys(b)
      .filter((k) => k in a)
      .flatMap((k) => shapeDifferences(a[k], b[k], `${path}.${k}`)),
  ];
}

/** A recorded Docker 20.10 answer from testdata/. */
export function dockerAnswer(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`testdata/${name}`, import.meta.url), "utf8")) as Record<string, unknown>;
}
