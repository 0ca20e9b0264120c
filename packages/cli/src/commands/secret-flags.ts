// --secret / --config on `service create`, --secret-add/--secret-rm and --config-add/--config-rm on
// `service update`, in docker's syntax: NAME, or source=NAME,target=T,uid=U,gid=G,mode=0400 (mode
// in octal). The manager resolves names to ids and fills in what is left out (file named as the
// object, owner 0:0, mode 0444); an update that changes them is a rolling update.
import type { Command } from "commander";
import {
  InvalidArgumentError,
  type ConfigReference,
  type ContainerSpec,
  type FileTarget,
  type SecretReference,
} from "@shoal/shared";

export interface SecretFlags {
  secret?: string[];
  config?: string[];
  secretAdd?: string[];
  secretRm?: string[];
  configAdd?: string[];
  configRm?: string[];
}

/** What the flags change: references to drop (by name or id), then references to add. */
export interface SecretEdit {
  readonly secretAdd: readonly SecretReference[];
  readonly secretRm: readonly string[];
  readonly configAdd: readonly ConfigReference[];
  readonly configRm: readonly string[];
}

/** Repeatable flags (service-spec.ts has the same; importing it would make a cycle through task-flags.ts). */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const SOURCE_HELP = "NAME or source=NAME,target=PATH,uid=UID,gid=GID,mode=0400";

export function addSecretOptions(cmd: Command, verb: "create" | "update"): Command {
  if (verb === "create") {
    return cmd
      .option("--secret <secret>", `give the tasks a secret: ${SOURCE_HELP} (repeatable)`, collect, [])
      .option("--config <config>", `give the tasks a config: ${SOURCE_HELP} (repeatable)`, collect, []);
  }
  return cmd
    .option("--secret-add <secret>", `add or replace a secret: ${SOURCE_HELP} (repeatable)`, collect, [])
    .option("--secret-rm <name>", "remove a secret by name or id (repeatable)", collect, [])
    .option("--config-add <config>", `add or replace a config: ${SOURCE_HELP} (repeatable)`, collect, [])
    .option("--config-rm <name>", "remove a config by name or id (repeatable)", collect, []);
}

/** One --secret value: the source's name and the file it becomes (unset fields: the manager's defaults). */
export function parseFileRef(value: string, flag: string): { source: string; file: FileTarget | undefined } {
  if (!value.includes("=")) {
    if (value === "" || value.includes(","))
      throw new InvalidArgumentError(`"${value}" names no source`, { field: flag });
    return { source: value, file: undefined };
  }
  const file: FileTarget = { name: "", uid: "", gid: "", mode: 0 };
  let source = "";
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (eq === -1 || v === "") throw new InvalidArgumentError(`"${part}" is not KEY=VALUE`, { field: flag });
    switch (key) {
      case "source":
      case "src":
        source = v;
        break;
      case "target":
        file.name = v;
        break;
      case "uid":
      case "gid":
        if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${key} "${v}" is not a numeric id`, { field: flag });
        file[key] = v;
        break;
      case "mode":
        file.mode = parseMode(v, flag);
        break;
      default:
        throw new InvalidArgumentError(`unknown key "${key}" (source, target, uid, gid, mode)`, { field: flag });
    }
  }
  if (source === "") throw new InvalidArgumentError(`"${value}" names no source`, { field: flag });
  return { source, file };
}

/** A file mode in octal, as docker's examples write it: 0400, 400, 0o400. */
function parseMode(value: string, flag: string): number {
  const m = /^(?:0o?)?([0-7]{1,4})$/i.exec(value);
  const mode = m ? parseInt(m[1]!, 8) : NaN;
  if (!m || mode > 0o777) throw new InvalidArgumentError(`mode "${value}" is not an octal file mode`, { field: flag });
  return mode;
}

const secretRef = (value: string, flag: string): SecretReference => {
  const { source, file } = parseFileRef(value, flag);
  return { secretId: "", secretName: source, file };
};

const configRef = (value: string, flag: string): ConfigReference => {
  const { source, file } = parseFileRef(value, flag);
  return { configId: "", configName: source, file };
};

export function parseSecretFlags(flags: SecretFlags): SecretEdit | undefined {
  const edit: SecretEdit = {
    secretAdd: [
      ...(flags.secret ?? []).map((v) => secretRef(v, "--secret")),
      ...(flags.secretAdd ?? []).map((v) => secretRef(v, "--secret-add")),
    ],
    secretRm: flags.secretRm ?? [],
    configAdd: [
      ...(flags.config ?? []).map((v) => configRef(v, "--config")),
      ...(flags.configAdd ?? []).map((v) => configRef(v, "--config-add")),
    ],
    configRm: flags.configRm ?? [],
  };
  const empty = Object.values(edit).every((list: readonly unknown[]) => list.length === 0);
  return empty ? undefined : edit;
}

/** The target a reference makes (its source's name when it sets none). */
const target = (name: string, file: FileTarget | undefined): string => file?.name || name;

function edit<T>(
  list: readonly T[],
  add: readonly T[],
  rm: readonly string[],
  ids: (r: T) => [id: string, name: string],
  file: (r: T) => FileTarget | undefined,
): T[] {
  const out = list.filter((r) => !ids(r).some((x) => x !== "" && rm.includes(x)));
  for (const a of add) {
    const t = target(ids(a)[1], file(a));
    const at = out.findIndex((r) => target(ids(r)[1], file(r)) === t);
    if (at === -1) out.push(a);
    else out[at] = a; // a new source for the same file: a rotation
  }
  return out;
}

/** Applies the edit to the container spec, in place. */
export function applySecretEdit(c: ContainerSpec, e: SecretEdit): void {
  c.secrets = edit(
    c.secrets,
    e.secretAdd,
    e.secretRm,
    (r) => [r.secretId, r.secretName],
    (r) => r.file,
  );
  c.configs = edit(
    c.configs,
    e.configAdd,
    e.configRm,
    (r) => [r.configId, r.configName],
    (r) => r.file,
  );
}
