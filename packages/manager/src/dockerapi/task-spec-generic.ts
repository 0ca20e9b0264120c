// Generic resources and placement platforms between Docker's JSON and Shoal's: a TaskTemplate's
// Resources.Reservations.GenericResources (DiscreteResourceSpec only: a service reserves counts;
// Limits have none), Placement.Platforms, a node's Description.Resources.GenericResources and a
// task's GenericResources (what the scheduler gave it). Checked on the way in, naming the field.
import {
  InvalidArgumentError,
  discreteResource,
  type DeepPartial,
  type GenericResource,
  type PlacementPlatform,
  type TaskSpec,
} from "@shoal/shared";
import type { DockerTaskSpec } from "./docker-types.js";
import { isRecord } from "./spec-values.js";

const RESERVATIONS = "TaskTemplate.Resources.Reservations.GenericResources";
const LIMITS = "TaskTemplate.Resources.Limits.GenericResources";
const PLATFORMS = "TaskTemplate.Placement.Platforms";

/** Docker's GenericResource JSON. */
export interface DockerGenericResource {
  NamedResourceSpec?: { Kind?: string; Value?: string };
  DiscreteResourceSpec?: { Kind?: string; Value?: number };
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A reservation's GenericResources as Shoal's: discrete counts only. */
function fromDockerReservations(value: unknown): GenericResource[] {
  return list(value).map((item, i) => {
    const field = `${RESERVATIONS}[${i}]`;
    const r = (isRecord(item) ? item : {}) as DockerGenericResource;
    if (r.NamedResourceSpec) {
      throw new InvalidArgumentError("a service reserves counts (DiscreteResourceSpec), not named resources", {
        field: `${field}.NamedResourceSpec`,
      });
    }
    const d = r.DiscreteResourceSpec;
    if (!d) throw new InvalidArgumentError("needs a DiscreteResourceSpec", { field });
    const count = d.Value ?? 0;
    if (!Number.isSafeInteger(count) || count <= 0) {
      throw new InvalidArgumentError(`must be a whole number of 1 or more, not ${count}`, {
        field: `${field}.DiscreteResourceSpec.Value`,
      });
    }
    return discreteResource(d.Kind ?? "", count);
  });
}

/**
 * `spec` (fromDockerTaskSpec's output for `t`) with the generic reservations and platforms of `t`
 * (Docker -> Shoal). Limits.GenericResources is refused: Docker's Limit has none.
 */
export function withGenericAndPlatforms(t: DockerTaskSpec, spec: DeepPartial<TaskSpec>): DeepPartial<TaskSpec> {
  const limits = t.Resources?.Limits;
  if (limits && list(limits["GenericResources"]).length > 0) {
    throw new InvalidArgumentError("generic resources are only reservations, not limits", { field: LIMITS });
  }
  const reservations = t.Resources?.Reservations;
  const generic = reservations ? fromDockerReservations(reservations["GenericResources"]) : [];
  if (generic.length > 0 && spec.resources?.reservations) spec.resources.reservations.generic = generic;
  const platforms = list(t.Placement?.["Platforms"]).map((item, i): PlacementPlatform => {
    const p = isRecord(item) ? item : {};
    const word = (v: unknown, name: string): string => {
      if (v === undefined || v === null) return "";
      if (typeof v !== "string")
        throw new InvalidArgumentError("must be a string", { field: `${PLATFORMS}[${i}].${name}` });
      return v;
    };
    return { os: word(p["OS"], "OS"), architecture: word(p["Architecture"], "Architecture") };
  });
  if (platforms.length > 0 && spec.placement) spec.placement.platforms = platforms;
  return spec;
}

/** Generic resources as Docker shows them (undefined when none: Docker omits the field). */
export function toDockerGeneric(generic: readonly GenericResource[] | undefined): DockerGenericResource[] | undefined {
  if (generic === undefined || generic.length === 0) return undefined;
  return generic.flatMap((r): DockerGenericResource[] => {
    if (r.resource?.$case === "named")
      return [{ NamedResourceSpec: { Kind: r.resource.value.kind, Value: r.resource.value.value } }];
    if (r.resource?.$case === "discrete") {
      return [{ DiscreteResourceSpec: { Kind: r.resource.value.kind, Value: r.resource.value.value } }];
    }
    return [];
  });
}

/** Adds the generic reservations and platforms of `t` to `out` (Shoal -> Docker, toDockerTaskSpec's base). */
export function addGenericAndPlatforms(out: DockerTaskSpec, t: TaskSpec | undefined): void {
  const generic = toDockerGeneric(t?.resources?.reservations?.generic);
  if (generic !== undefined) {
    const resources = (out.Resources ??= {});
    resources.Reservations = { ...resources.Reservations, GenericResources: generic };
  }
  const platforms = t?.placement?.platforms ?? [];
  if (platforms.length > 0) {
    out.Placement = {
      ...out.Placement,
      Platforms: platforms.map((p) => ({ Architecture: p.architecture, OS: p.os })),
    };
  }
}
