// A container spec's Mounts: Docker's JSON <-> Shoal's Mount, both ways. Types and words are
// matched without regard to case, as Docker's daemon matches them; the mount types Shoal has no
// agent for (npipe, cluster) and the options newer than API 1.41 are refused naming the field.
// The rest of the checks (absolute paths, volume names, options of another type) are the Control
// API's (controlapi/validate-mounts.ts), as for any client.
import { InvalidArgumentError, MountType, type DeepPartial, type Mount } from "@shoal/shared";
import type { Shape } from "./json-shape.js";
import { defined, invert, pick, whole } from "./spec-values.js";

export interface DockerMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
    Subpath?: string;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: unknown } | null;
  ClusterOptions?: unknown;
}

const labels: Shape = { map: "string" };

/** Docker's Mount struct (fields up to API 1.47, so that a newer client's are named, not unknown). */
export const MOUNTS_SHAPE: Shape = {
  array: {
    object: {
      Type: "string",
      Source: "string",
      Target: "string",
      ReadOnly: "boolean",
      Consistency: "string",
      BindOptions: {
        object: {
          Propagation: "string",
          NonRecursive: "boolean",
          CreateMountpoint: "boolean",
          ReadOnlyNonRecursive: "boolean",
          ReadOnlyForceRecursive: "boolean",
        },
      },
      VolumeOptions: {
        object: {
          NoCopy: "boolean",
          Labels: labels,
          DriverConfig: { object: { Name: "string", Options: labels } },
          Subpath: "string",
        },
      },
      TmpfsOptions: { object: { SizeBytes: "number", Mode: "number", Options: "any" } },
      ClusterOptions: "any",
    },
  },
};

const TYPES: Record<string, MountType> = { bind: MountType.BIND, volume: MountType.VOLUME, tmpfs: MountType.TMPFS };
const TYPE_NAMES = invert(TYPES);
const PROPAGATIONS = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];
const CONSISTENCIES = ["default", "consistent", "cached", "delegated"];

/** `value` lower-cased when it is one of `words` (or empty); InvalidArgumentError on `field` otherwise. */
function word(value: string | undefined, words: readonly string[], field: string): string {
  const v = (value ?? "").toLowerCase();
  if (v !== "" && !words.includes(v)) {
    throw new InvalidArgumentError(`"${value}" is not one of ${words.join(", ")}`, { field });
  }
  return v;
}

/** Refuses a newer option that is set: Shoal's agents do not act on it. */
function refuseSet(set: boolean, field: string): void {
  if (set) throw new InvalidArgumentError("is not supported by Shoal", { field });
}

function fromDockerMount(m: DockerMount, at: string): DeepPartial<Mount> {
  // As Docker's daemon: the type's case does not matter, and no type is a bind.
  const typeName = (m.Type ?? "").toLowerCase() || "bind";
  if (typeName === "npipe" || typeName === "cluster") {
    throw new InvalidArgumentError(`mount type "${m.Type}" is not supported by Shoal (bind, volume or tmpfs)`, {
      field: `${at}.Type`,
    });
  }
  const type = pick(TYPES, typeName, `${at}.Type`);
  refuseSet(m.ClusterOptions !== undefined && m.ClusterOptions !== null, `${at}.ClusterOptions`);
  const b = m.BindOptions;
  const v = m.VolumeOptions;
  const t = m.TmpfsOptions;
  if (b) {
    refuseSet(b.CreateMountpoint === true, `${at}.BindOptions.CreateMountpoint`);
    refuseSet(b.ReadOnlyNonRecursive === true, `${at}.BindOptions.ReadOnlyNonRecursive`);
    refuseSet(b.ReadOnlyForceRecursive === true, `${at}.BindOptions.ReadOnlyForceRecursive`);
  }
  refuseSet((v?.Subpath ?? "") !== "", `${at}.VolumeOptions.Subpath`);
  refuseSet(t?.Options !== undefined && t.Options !== null, `${at}.TmpfsOptions.Options`);
  return {
    type,
    source: m.Source ?? "",
    target: m.Target ?? "",
    readOnly: m.ReadOnly ?? false,
    consistency: word(m.Consistency, CONSISTENCIES, `${at}.Consistency`),
    bindOptions: b
      ? {
          propagation: word(b.Propagation, PROPAGATIONS, `${at}.BindOptions.Propagation`),
          nonRecursive: b.NonRecursive ?? false,
        }
      : undefined,
    volumeOptions: v
      ? {
          noCopy: v.NoCopy ?? false,
          labels: v.Labels ?? {},
          driverConfig: v.DriverConfig
            ? { name: v.DriverConfig.Name ?? "", options: v.DriverConfig.Options ?? {} }
            : undefined,
        }
      : undefined,
    tmpfsOptions: t
      ? {
          sizeBytes: whole(t.SizeBytes, `${at}.TmpfsOptions.SizeBytes`),
          mode: whole(t.Mode, `${at}.TmpfsOptions.Mode`),
        }
      : undefined,
  };
}

/** Docker's ContainerSpec.Mounts as Shoal's mounts. Throws InvalidArgumentError naming the field. */
export function fromDockerMounts(
  mounts: readonly (DockerMount | null)[] | null | undefined,
  field = "TaskTemplate.ContainerSpec.Mounts",
): DeepPartial<Mount>[] {
  return (mounts ?? []).map((m, i) => fromDockerMount(m ?? {}, `${field}[${i}]`));
}

/** Shoal's mounts as Docker's, empty fields left out as Docker leaves them out; undefined for none. */
export function toDockerMounts(mounts: readonly Mount[] | undefined): DockerMount[] | undefined {
  if (mounts === undefined || mounts.length === 0) return undefined;
  return mounts.map((m) => {
    const b = m.bindOptions;
    const v = m.volumeOptions;
    const d = v?.driverConfig;
    const t = m.tmpfsOptions;
    return defined<DockerMount>({
      Type: TYPE_NAMES.get(m.type) ?? "bind",
      Source: m.source || undefined,
      Target: m.target,
      ReadOnly: m.readOnly || undefined,
      Consistency: m.consistency || undefined,
      BindOptions: b
        ? defined({ Propagation: b.propagation || undefined, NonRecursive: b.nonRecursive || undefined })
        : undefined,
      VolumeOptions: v
        ? defined({
            NoCopy: v.noCopy || undefined,
            Labels: Object.keys(v.labels).length > 0 ? { ...v.labels } : undefined,
            DriverConfig: d
              ? defined({
                  Name: d.name || undefined,
                  Options: Object.keys(d.options).length > 0 ? { ...d.options } : undefined,
                })
              : undefined,
          })
        : undefined,
      TmpfsOptions: t ? defined({ SizeBytes: t.sizeBytes || undefined, Mode: t.mode || undefined }) : undefined,
    });
  });
}
