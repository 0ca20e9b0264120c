// Checking request bodies against the shape Docker's API gives them, before anything is
// translated or stored: an unknown field, a wrong type or bad JSON is a 400 that names the field
// (`TaskTemplate.ContainerSpec.Env[1]: expected a string, got a number`). null stands for an
// absent value anywhere, as in Go's decoder.
import { InvalidArgumentError } from "@shoal/shared";

export type Shape =
  | "string"
  | "number"
  | "boolean"
  /** Any JSON: a Docker field Shoal accepts and keeps without looking inside. */
  | "any"
  | { readonly object: Readonly<Record<string, Shape>> }
  | { readonly array: Shape }
  /** A JSON object with arbitrary keys, e.g. labels. */
  | { readonly map: Shape };

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  const t = typeof value;
  return t === "object" ? "an object" : `a ${t}`;
}

function fail(path: string, message: string): never {
  throw new InvalidArgumentError(message, { field: path === "" ? "body" : path });
}

/** Throws an InvalidArgumentError naming the first field of `value` that does not fit `shape`. */
export function checkShape(value: unknown, shape: Shape, path = ""): void {
  if (value === null || value === undefined || shape === "any") return;
  if (typeof shape === "string") {
    if (typeof value !== shape) fail(path, `expected a ${shape}, got ${kindOf(value)}`);
    if (shape === "number" && !Number.isFinite(value)) fail(path, "expected a finite number");
    return;
  }
  if ("array" in shape) {
    if (!Array.isArray(value)) fail(path, `expected an array, got ${kindOf(value)}`);
    value.forEach((v, i) => checkShape(v, shape.array, `${path}[${i}]`));
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) fail(path, `expected an object, got ${kindOf(value)}`);
  const record = value as Record<string, unknown>;
  const join = (key: string): string => (path === "" ? key : `${path}.${key}`);
  if ("map" in shape) {
    for (const [k, v] of Object.entries(record)) checkShape(v, shape.map, join(k));
    return;
  }
  for (const [k, v] of Object.entries(record)) {
    const field = shape.object[k];
    if (field === undefined) fail(join(k), "unknown field");
    checkShape(v, field, join(k));
  }
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
