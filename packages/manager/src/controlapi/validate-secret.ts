// Validation of secret and config specs (Swarm's rules): a name of at most 64 letters, digits,
// '-', '_' and '.', starting and ending with a letter or digit; data neither empty nor at Swarm's
// size limit; labels as elsewhere. Errors name the field; they never quote the data.
import { InvalidArgumentError, type Annotations } from "@shoal/shared";
import { validateLabelKeys } from "./validate-labels.js";

/** Swarm's MaxSecretSize: a secret's data is smaller than this (500 KiB). */
export const MAX_SECRET_SIZE = 500 * 1024;
/** SwarmKit's MaxConfigSize (manager/controlapi/config.go): a config's data is smaller than this. */
export const MAX_CONFIG_SIZE = 1000 * 1024;
export const MAX_OBJECT_NAME_LENGTH = 64;

const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/;

export type SecretKind = "secret" | "config";

export function maxSize(kind: SecretKind): number {
  return kind === "secret" ? MAX_SECRET_SIZE : MAX_CONFIG_SIZE;
}

/** What secret and config specs share. */
export interface SecretLikeSpec {
  annotations: Annotations | undefined;
  data: Uint8Array;
}

export function validateObjectName(kind: SecretKind, name: string, field: string): void {
  if (name === "") throw new InvalidArgumentError(`a ${kind} needs a name`, { field });
  if (name.length > MAX_OBJECT_NAME_LENGTH || !NAME.test(name)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(name.slice(0, 80))} is not a valid ${kind} name (at most ${MAX_OBJECT_NAME_LENGTH} ` +
        `letters, digits, '-', '_' and '.', starting and ending with a letter or digit)`,
      { field },
    );
  }
}

/** Checks a spec to create; returns it. */
export function validateSecretLikeSpec<S extends SecretLikeSpec>(kind: SecretKind, spec: S | undefined): S {
  if (!spec) throw new InvalidArgumentError("is required", { field: "spec" });
  validateObjectName(kind, spec.annotations?.name ?? "", "spec.annotations.name");
  validateLabelKeys(spec.annotations?.labels, "spec.annotations.labels");
  const limit = maxSize(kind);
  if (spec.data.length === 0) throw new InvalidArgumentError(`a ${kind} needs data`, { field: "spec.data" });
  if (spec.data.length >= limit) {
    throw new InvalidArgumentError(
      `${spec.data.length} bytes: a ${kind}'s data must be smaller than ${limit} bytes (${limit / 1024} KiB)`,
      { field: "spec.data" },
    );
  }
  return spec;
}
