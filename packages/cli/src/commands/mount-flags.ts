// `--mount` (service create) and `--mount-add` / `--mount-rm` (service update), as the docker
// CLI takes them: one CSV record of key=value fields per flag, e.g.
//   type=volume,source=data,target=/data,volume-driver=local,volume-opt=type=nfs,readonly
// The type defaults to volume; options of one type cannot be given for another. The form of
// paths and names is the manager's to check (it names the field at fault).
import type { Command } from "commander";
import { InvalidArgumentError, Mount, MountType } from "@shoal/shared";
import { parseBytes } from "../output/duration.js";

export interface CreateMountFlags {
  mount?: string[];
}

export interface UpdateMountFlags {
  mountAdd?: string[];
  mountRm?: string[];
}

/** What `--mount-add` and `--mount-rm` change: mounts added (or replacing one of the same target), targets removed. */
export interface MountEdit {
  readonly add: readonly Mount[];
  readonly rm: readonly string[];
}

const MOUNT_HELP =
  "type=bind|volume|tmpfs,source=SRC,target=DST[,readonly][,volume-driver=D][,volume-opt=k=v]" +
  "[,volume-label=k=v][,volume-nocopy][,bind-propagation=P][,tmpfs-size=SIZE][,tmpfs-mode=MODE] (repeatable)";

/** Commander's repeatable option (as service-spec.ts's collect, which this file cannot import: a cycle). */
const append = (value: string, previous: string[]): string[] => [...previous, value];

export function addMountOption(cmd: Command): Command {
  return cmd.option("--mount <mount>", `attach a mount: ${MOUNT_HELP}`, append, []);
}

export function addMountUpdateOptions(cmd: Command): Command {
  return cmd
    .option("--mount-add <mount>", "add or replace (by target) a mount, as --mount of create (repeatable)", append, [])
    .option("--mount-rm <target>", "remove the mount with this target path (repeatable)", append, []);
}

/** The fields of one CSV record, as Go's encoding/csv reads them: "..." quotes commas, "" is a quote. */
export function csvFields(value: string, flag: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new InvalidArgumentError(`unterminated quote in "${value}"`, { field: flag });
        if (value[i] === '"') {
          if (value[i + 1] !== '"') break;
          i++;
        }
        field += value[i++];
      }
      i++;
      if (i < value.length && value[i] !== ",") {
        throw new InvalidArgumentError(`extraneous text after a quoted field in "${value}"`, { field: flag });
      }
    } else {
      const comma = value.indexOf(",", i);
      field = value.slice(i, comma === -1 ? value.length : comma);
      i = comma === -1 ? value.length : comma;
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool. */
function bool(value: string, key: string, flag: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(value)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return false;
  throw new InvalidArgumentError(`invalid value for ${key}: ${value}`, { field: flag });
}

/** `k=v` into `map` (an empty key is skipped, as the docker CLI does). */
function setPair(map: Record<string, string>, pair: string): void {
  const eq = pair.indexOf("=");
  const key = eq === -1 ? pair : pair.slice(0, eq);
  if (key !== "") map[key] = eq === -1 ? "" : pair.slice(eq + 1);
}

const TYPES: Record<string, MountType> = { bind: MountType.BIND, volume: MountType.VOLUME, tmpfs: MountType.TMPFS };

/** One `--mount` value as a Mount. */
export function parseMount(value: string, flag = "--mount"): Mount {
  const m = Mount.fromPartial({ type: MountType.VOLUME });
  let typeName = "volume";
  const bind = (): NonNullable<Mount["bindOptions"]> => (m.bindOptions ??= { propagation: "", nonRecursive: false });
  const volume = (): NonNullable<Mount["volumeOptions"]> =>
    (m.volumeOptions ??= { noCopy: false, labels: {}, driverConfig: undefined });
  const driver = (): NonNullable<NonNullable<Mount["volumeOptions"]>["driverConfig"]> =>
    (volume().driverConfig ??= { name: "", options: {} });
  const tmpfs = (): NonNullable<Mount["tmpfsOptions"]> => (m.tmpfsOptions ??= { sizeBytes: 0, mode: 0 });

  for (const field of csvFields(value, flag)) {
    const eq = field.indexOf("=");
    const key = (eq === -1 ? field : field.slice(0, eq)).toLowerCase();
    if (eq === -1) {
      if (key === "readonly" || key === "ro") m.readOnly = true;
      else if (key === "volume-nocopy") volume().noCopy = true;
      else if (key === "bind-nonrecursive") bind().nonRecursive = true;
      else throw new InvalidArgumentError(`invalid field '${field}' must be a key=value pair`, { field: flag });
      continue;
    }
    const val = field.slice(eq + 1);
    switch (key) {
      case "type":
        typeName = val.toLowerCase();
        break;
      case "source":
      case "src":
        m.source = val;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = val;
        break;
      case "readonly":
      case "ro":
        m.readOnly = bool(val, key, flag);
        break;
      case "consistency":
        m.consistency = val.toLowerCase();
        break;
      case "bind-propagation":
        bind().propagation = val.toLowerCase();
        break;
      case "bind-nonrecursive":
        bind().nonRecursive = bool(val, key, flag);
        break;
      case "volume-nocopy":
        volume().noCopy = bool(val, key, flag);
        break;
      case "volume-label":
        setPair(volume().labels, val);
        break;
      case "volume-driver":
        driver().name = val;
        break;
      case "volume-opt":
        setPair(driver().options, val);
        break;
      case "tmpfs-size":
        tmpfs().sizeBytes = parseBytes(val, flag);
        break;
      case "tmpfs-mode":
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0o7777) {
          throw new InvalidArgumentError(`invalid value for ${key}: ${val} (an octal mode, e.g. 1777)`, {
            field: flag,
          });
        }
        tmpfs().mode = parseInt(val, 8);
        break;
      default:
        throw new InvalidArgumentError(`unexpected key '${key}' in '${field}'`, { field: flag });
    }
  }
  const type = TYPES[typeName];
  if (type === undefined) {
    throw new InvalidArgumentError(`mount type "${typeName}" is not supported (bind, volume or tmpfs)`, {
      field: flag,
    });
  }
  m.type = type;
  if (m.target === "") throw new InvalidArgumentError("target is required", { field: flag });
  for (const [options, name] of [
    [m.volumeOptions, "volume"],
    [m.bindOptions, "bind"],
    [m.tmpfsOptions, "tmpfs"],
  ] as const) {
    if (options !== undefined && typeName !== name) {
      throw new InvalidArgumentError(`cannot mix '${name}-*' options with mount type '${typeName}'`, {
        field: flag,
      });
    }
  }
  return m;
}

/** `--mount` values as mounts; a target given twice is refused. */
export function parseMounts(values: readonly string[] | undefined, flag = "--mount"): Mount[] {
  const mounts = (values ?? []).map((v) => parseMount(v, flag));
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.target)) throw new InvalidArgumentError(`duplicate mount target ${m.target}`, { field: flag });
    seen.add(m.target);
  }
  return mounts;
}

/** `--mount-add` and `--mount-rm`, checked. */
export function parseMountEdit(flags: UpdateMountFlags): MountEdit {
  const rm = flags.mountRm ?? [];
  for (const t of rm) if (t === "") throw new InvalidArgumentError("an empty target", { field: "--mount-rm" });
  return { add: parseMounts(flags.mountAdd, "--mount-add"), rm: [...rm] };
}
