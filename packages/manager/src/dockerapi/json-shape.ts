// Decoding request bodies into the shape Docker's API gives them, before anything is translated
// or stored: an unknown field, a wrong type or bad JSON is a 400 that names the field
// (`TaskTemplate.ContainerSpec.Env[1]: expected a string, got a number`).
//
// Field names are matched as Docker's daemon matches them (Go's encoding/json): a key names the
// field spelled exactly like it, else the field whose name equals it under Unicode simple case
// folding (docker-py sends `{"Mode": {"replicated": {...}}}`). The decoded copy carries Docker's
// own spelling, so everything after this sees one name per field. Keys of maps (labels, driver
// options) are data and kept exactly. null stands for an absent value anywhere, as in Go.
import { InvalidArgumentError } from "@shoal/shared";
import { isRecord } from "./spec-values.js";

export type Shape =
  | "string"
  | "number"
  | "boolean"
  /** Any JSON: a Docker field Shoal accepts and keeps without looking inside. */
  | "any"
  /**
   * A Docker struct. `open`: a struct Shoal keeps without acting on it; its fields are matched
   * like any other, and keys that match none are kept as given rather than refused.
   */
  | { readonly object: Readonly<Record<string, Shape>>; readonly open?: boolean }
  | { readonly array: Shape }
  /** A JSON object with arbitrary keys, e.g. labels. */
  | { readonly map: Shape };

type StructShape = Extract<Shape, { object: unknown }>;

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  const t = typeof value;
  return t === "object" ? "an object" : `a ${t}`;
}

function fail(path: string, message: string): never {
  throw new InvalidArgumentError(message, { field: path === "" ? "body" : path });
}

/**
 * `key` under Unicode simple case folding, as far as it can equal an ASCII field name: ASCII
 * letters in lower case, and the two non-ASCII letters that fold onto ASCII ones (U+017F long s
 * onto s, U+212A Kelvin sign onto k). Other characters stay as they are and match nothing.
 */
export function foldKey(key: string): string {
  let out = "";
  for (const ch of key) {
    if (ch >= "A" && ch <= "Z") out += ch.toLowerCase();
    else if (ch === "\u017f") out += "s";
    else if (ch === "\u212a") out += "k";
    else out += ch;
  }
  return out;
}

const foldedNames = new WeakMap<object, ReadonlyMap<string, string>>();

/** The struct field that JSON key `key` names: the exact spelling first, else a case-folded match. */
export function fieldOf(shape: StructShape, key: string): string | undefined {
  if (Object.hasOwn(shape.object, key)) return key;
  let index = foldedNames.get(shape.object);
  if (index === undefined) {
    index = new Map(Object.keys(shape.object).map((name) => [foldKey(name), name]));
    foldedNames.set(shape.object, index);
  }
  return index.get(foldKey(key));
}

/** Sets an own property, even one named `__proto__` (a JSON key is data, never a prototype). */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A key seen twice for one field (`Mode` and `mode`): as Go decodes both into the same field in
 * order, objects merge and anything else is replaced by the later value.
 */
function mergeRepeated(earlier: unknown, later: unknown): unknown {
  if (!isRecord(earlier) || !isRecord(later)) return later;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(earlier)) put(out, k, v);
  for (const [k, v] of Object.entries(later)) put(out, k, Object.hasOwn(out, k) ? mergeRepeated(out[k], v) : v);
  return out;
}

/**
 * Decodes `value` as `shape`: a copy whose struct keys are spelled as Docker spells them. Throws
 * an InvalidArgumentError naming the first field that does not fit.
 */
export function decodeShape(value: unknown, shape: Shape, path = ""): unknown {
  if (value === null || value === undefined || shape === "any") return value;
  if (typeof shape === "string") {
    if (typeof value !== shape) fail(path, `expected a ${shape}, got ${kindOf(value)}`);
    if (shape === "number" && !Number.isFinite(value)) fail(path, "expected a finite number");
    return value;
  }
  if ("array" in shape) {
    if (!Array.isArray(value)) fail(path, `expected an array, got ${kindOf(value)}`);
    return value.map((v, i) => decodeShape(v, shape.array, `${path}[${i}]`));
  }
  if (!isRecord(value)) fail(path, `expected an object, got ${kindOf(value)}`);
  const join = (key: string): string => (path === "" ? key : `${path}.${key}`);
  const out: Record<string, unknown> = {};
  if ("map" in shape) {
    for (const [k, v] of Object.entries(value)) put(out, k, decodeShape(v, shape.map, join(k)));
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    // A null field is the zero value to Go's decoder, as if absent, and Docker gives back no null
    // for it (its fields are omitempty): drop it rather than keep and show it.
    if (v === null) continue;
    const name = fieldOf(shape, k);
    if (name === undefined) {
      if (shape.open !== true) fail(join(k), "unknown field");
      put(out, k, v);
      continue;
    }
    const decoded = decodeShape(v, shape.object[name]!, join(name));
    put(out, name, Object.hasOwn(out, name) ? mergeRepeated(out[name], decoded) : decoded);
  }
  return out;
}

/** Parses a request body as JSON; an empty body is `{}`. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new InvalidArgumentError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      field: "body",
      cause: err,
    });
  }
}

/**
 * The body without the endpoint's query parameter names: dockerode (docker-modem) sends its query
 * options in the body too (`{"version": 12, ...spec}`), which Docker's Go decoder ignores as keys
 * of no field; so do we, rather than calling them unknown fields.
 */
export function withoutQueryFields(body: unknown, names: readonly string[]): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([k]) => !names.includes(k)));
}
