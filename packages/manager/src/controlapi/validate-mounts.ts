// Validation of a container spec's mounts, by the rules of Docker's daemon and SwarmKit: every
// target absolute, not the root, and used once; a bind's source absolute; a volume's source a
// valid volume name (or empty: an anonymous volume); a tmpfs without a source; options only for
// their own type; propagation and consistency words Docker knows; a tmpfs mode of permission bits.
// A `{{...}}` template in a source or target (expanded on the node) counts as a plain word here.
import { posix } from "node:path";
import { InvalidArgumentError, MountType, type Mount } from "@shoal/shared";
import { validateLabelKeys } from "./validate-labels.js";

/** Docker's rule for the names of local volumes (at least two characters). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = new Set(["", "private", "rprivate", "shared", "rshared", "slave", "rslave"]);
const CONSISTENCIES = new Set(["", "default", "consistent", "cached", "delegated"]);
const MAX_MODE = 0o7777;
const TEMPLATE = /\{\{.*?\}\}/g;

const TYPE_NAMES: Record<MountType, string> = {
  [MountType.BIND]: "bind",
  [MountType.VOLUME]: "volume",
  [MountType.TMPFS]: "tmpfs",
};

/** `value` with each template replaced by a plain word, for checks of its form. */
const untemplated = (value: string): string => value.replace(TEMPLATE, "x");

/** Throws InvalidArgumentError naming the first field of `mounts` (at `field`) that is wrong. */
export function validateMounts(mounts: readonly Mount[], field: string): void {
  const targets = new Map<string, number>();
  mounts.forEach((m, i) => {
    const at = `${field}[${i}]`;
    validateMount(m, at);
    const target = posix.normalize(untemplated(m.target)).replace(/\/+$/, "");
    const earlier = targets.get(target);
    if (earlier !== undefined) {
      throw new InvalidArgumentError(`${m.target} is also the target of mount ${earlier}`, { field: `${at}.target` });
    }
    targets.set(target, i);
  });
}

function validateMount(m: Mount, at: string): void {
  const type = TYPE_NAMES[m.type] as string | undefined;
  if (type === undefined) {
    throw new InvalidArgumentError(`unknown mount type ${m.type} (bind, volume or tmpfs)`, { field: `${at}.type` });
  }
  const target = untemplated(m.target);
  if (!target.startsWith("/")) {
    throw new InvalidArgumentError(`must be an absolute path in the container, not "${m.target}"`, {
      field: `${at}.target`,
    });
  }
  if (posix.normalize(target) === "/") {
    throw new InvalidArgumentError("cannot be the container's root (/)", { field: `${at}.target` });
  }
  validateSource(m, at);
  if (!CONSISTENCIES.has(m.consistency)) {
    throw new InvalidArgumentError(`"${m.consistency}" is not default, consistent, cached or delegated`, {
      field: `${at}.consistency`,
    });
  }
  for (const [options, set, name] of [
    ["bind_options", m.bindOptions !== undefined, MountType.BIND],
    ["volume_options", m.volumeOptions !== undefined, MountType.VOLUME],
    ["tmpfs_options", m.tmpfsOptions !== undefined, MountType.TMPFS],
  ] as const) {
    if (set && m.type !== name) {
      throw new InvalidArgumentError(`is only for ${TYPE_NAMES[name]} mounts, not on a ${type} mount`, {
        field: `${at}.${options}`,
      });
    }
  }
  const b = m.bindOptions;
  if (b !== undefined && !PROPAGATIONS.has(b.propagation)) {
    throw new InvalidArgumentError(
      `"${b.propagation}" is not a propagation (private, rprivate, shared, rshared, slave or rslave)`,
      { field: `${at}.bind_options.propagation` },
    );
  }
  const v = m.volumeOptions;
  if (v !== undefined) {
    validateLabelKeys(v.labels, `${at}.volume_options.labels`);
    for (const key of Object.keys(v.driverConfig?.options ?? {})) {
      if (key === "") {
        throw new InvalidArgumentError("an option needs a name", {
          field: `${at}.volume_options.driver_config.options`,
        });
      }
    }
  }
  const t = m.tmpfsOptions;
  if (t !== undefined) {
    if (!Number.isSafeInteger(t.sizeBytes) || t.sizeBytes < 0) {
      throw new InvalidArgumentError(`must be a whole number of bytes, 0 (no limit) or more, not ${t.sizeBytes}`, {
        field: `${at}.tmpfs_options.size_bytes`,
      });
    }
    if (!Number.isInteger(t.mode) || t.mode < 0 || t.mode > MAX_MODE) {
      throw new InvalidArgumentError(`must be permission bits from 0 to 0o7777, not 0o${t.mode.toString(8)}`, {
        field: `${at}.tmpfs_options.mode`,
      });
    }
  }
}

function validateSource(m: Mount, at: string): void {
  const field = `${at}.source`;
  const source = untemplated(m.source);
  switch (m.type) {
    case MountType.BIND:
      if (!source.startsWith("/")) {
        throw new InvalidArgumentError(`a bind mount needs an absolute path on the node, not "${m.source}"`, {
          field,
        });
      }
      return;
    case MountType.VOLUME: {
      if (source === "") return; // an anonymous volume
      const driver = m.volumeOptions?.driverConfig?.name ?? "";
      // Other drivers have their own rules; Docker refuses a path as a volume name whatever the driver.
      const local = driver === "" || driver === "local";
      if (local ? !VOLUME_NAME.test(source) : source.startsWith("/")) {
        throw new InvalidArgumentError(
          `"${m.source}" is not a valid volume name (a letter or digit, then at least one of letters, digits, '_', '.' and '-')`,
          { field },
        );
      }
      return;
    }
    case MountType.TMPFS:
      if (m.source !== "") throw new InvalidArgumentError("a tmpfs mount has no source", { field });
      return;
  }
}
