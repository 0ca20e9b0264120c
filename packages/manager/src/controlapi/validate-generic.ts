// Generic resources and placement platforms of a task template. A service reserves counts of
// generic resources (discrete ones, as the docker CLI sends them: a named unit is a node's, given
// by the scheduler); limits carry none. Platforms are words as Go names them ("linux", "amd64").
import { InvalidArgumentError, resourceKind, type GenericResource, type TaskSpec } from "@shoal/shared";

const T = "spec.task_template";
/** A resource kind: it becomes part of an environment variable's name (DOCKER_RESOURCE_<KIND>). */
const KIND = /^[A-Za-z0-9_.-]{1,128}$/;
/** An os or architecture ("linux", "amd64", "arm64", "386", "ppc64le"); empty matches any. */
const PLATFORM_WORD = /^[A-Za-z0-9_.-]{0,64}$/;

/** Throws InvalidArgumentError naming the first bad generic resource or platform. */
export function validateGenericAndPlatforms(t: TaskSpec | undefined): void {
  if ((t?.resources?.limits?.generic.length ?? 0) > 0) {
    throw new InvalidArgumentError("generic resources are only reservations, not limits", {
      field: `${T}.resources.limits.generic`,
    });
  }
  validateReservations(t?.resources?.reservations?.generic ?? []);
  t?.placement?.platforms.forEach((p, i) => {
    for (const [name, value] of [
      ["os", p.os],
      ["architecture", p.architecture],
    ] as const) {
      if (!PLATFORM_WORD.test(value)) {
        throw new InvalidArgumentError(`"${value}" is not a platform word such as linux, amd64 or arm64`, {
          field: `${T}.placement.platforms[${i}].${name}`,
        });
      }
    }
  });
}

function validateReservations(generic: readonly GenericResource[]): void {
  const kinds = new Set<string>();
  generic.forEach((r, i) => {
    const field = `${T}.resources.reservations.generic[${i}]`;
    if (r.resource === undefined) throw new InvalidArgumentError("needs a discrete resource", { field });
    if (r.resource.$case === "named") {
      throw new InvalidArgumentError(
        `a service reserves a count of a kind (discrete), not the named unit "${r.resource.value.value}"`,
        { field },
      );
    }
    const kind = resourceKind(r);
    if (!KIND.test(kind)) {
      throw new InvalidArgumentError(`"${kind}" is not a resource kind (letters, digits, '_', '.', '-')`, {
        field: `${field}.discrete.kind`,
      });
    }
    if (kinds.has(kind)) throw new InvalidArgumentError(`kind "${kind}" is reserved twice`, { field });
    kinds.add(kind);
    const value = r.resource.value.value;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidArgumentError(`must be a whole number of 1 or more, not ${value}`, {
        field: `${field}.discrete.value`,
      });
    }
  });
}
