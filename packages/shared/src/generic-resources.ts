// Generic resources (Docker's node-generic-resources: GPUs, FPGAs, ...): a node advertises named
// units ("gpu=GPU-1a2b", one per flag) or a count ("gpu=2"); a task reserves a count of a kind.
// Parsed as SwarmKit's genericresource.Parse parses them, so that the words of dockerd's
// `--node-generic-resource` and `docker service create --generic-resource` mean the same here.
import { InvalidArgumentError } from "./errors.js";
import type { GenericResource } from "./gen/shoal/v1/types.js";

/** A count of `kind` (a discrete resource). */
export function discreteResource(kind: string, value: number): GenericResource {
  return { resource: { $case: "discrete", value: { kind, value } } };
}

/** One named unit of `kind` (a GPU's id). */
export function namedResource(kind: string, value: string): GenericResource {
  return { resource: { $case: "named", value: { kind, value } } };
}

/** The kind of a resource ("" for an empty one). */
export function resourceKind(r: GenericResource): string {
  return r.resource?.value.kind ?? "";
}

/** The value as text: the unit's name, or the count. */
export function resourceValue(r: GenericResource): string {
  return r.resource === undefined ? "" : String(r.resource.value.value);
}

/** "gpu=GPU-1a2b", "gpu=2" */
export function formatResource(r: GenericResource): string {
  return `${resourceKind(r)}=${resourceValue(r)}`;
}

const INTEGER = /^[+-]?\d+$/;

/**
 * `KIND=VALUE` terms as SwarmKit reads them: the values of one kind are one count (a single
 * whole number) or named units (none a number); a kind with both, a term without exactly one
 * "=", an empty kind or a negative count is refused, naming `field`. The order of the terms is
 * kept (kinds by first appearance).
 */
export function parseGenericResources(terms: readonly string[], field: string): GenericResource[] {
  const byKind = new Map<string, string[]>();
  for (const term of terms) {
    const parts = term.split("=");
    if (parts.length !== 2) {
      throw new InvalidArgumentError(`"${term}" is not KIND=VALUE (e.g. gpu=2 or gpu=GPU-1a2b)`, { field });
    }
    const kind = parts[0]!.trim();
    const value = parts[1]!.trim();
    if (kind === "" || value === "") {
      throw new InvalidArgumentError(`"${term}" needs a kind and a value (e.g. gpu=2 or gpu=GPU-1a2b)`, { field });
    }
    if (/[\s,]/.test(kind)) throw new InvalidArgumentError(`"${kind}" is not a valid resource kind`, { field });
    // A container gets named units joined by commas (DOCKER_RESOURCE_GPU=a,b): none may hold one.
    if (/[\s,]/.test(value)) throw new InvalidArgumentError(`"${value}" is not a valid resource value`, { field });
    const values = byKind.get(kind);
    if (values === undefined) byKind.set(kind, [value]);
    else values.push(value);
  }
  const out: GenericResource[] = [];
  for (const [kind, values] of byKind) {
    const numbers = values.filter((v) => INTEGER.test(v));
    if (numbers.length === 0) {
      for (const v of new Set(values)) out.push(namedResource(kind, v));
      continue;
    }
    if (values.length !== 1) {
      throw new InvalidArgumentError(
        `kind "${kind}" mixes a count and named units, or gives two counts (${values.join(", ")})`,
        { field },
      );
    }
    const count = Number(numbers[0]);
    if (count < 0 || !Number.isSafeInteger(count)) {
      throw new InvalidArgumentError(`"${kind}=${values[0]}" is not a count of 0 or more`, { field });
    }
    out.push(discreteResource(kind, count));
  }
  return out;
}
