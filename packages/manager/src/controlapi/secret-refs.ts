// A service's references to secrets and configs (spec.task_template.container.secrets/.configs).
// Checked twice: their form with the rest of the spec (validateSecretRefs), then, within the
// transaction that stores the service, resolved against the store (resolveSecretRefs): each one
// names its object by id and by name, gets Swarm's defaults (file named as the object, owned by
// 0:0, mode 0444), and no two of a kind share a target. An unknown secret refuses the spec.
import {
  InvalidArgumentError,
  type ConfigReference,
  type FileTarget,
  type SecretReference,
  type ServiceSpec,
  type TaskSpec,
} from "@shoal/shared";
import type { ReadTx } from "../state/store/index.js";
import type { SecretKind } from "./validate-secret.js";

const C = "spec.task_template.container";
const DEFAULT_MODE = 0o444;
const NUMERIC = /^[0-9]+$/;

/** One reference of either kind, as both look. */
interface Ref {
  readonly id: string;
  readonly name: string;
  readonly file: FileTarget | undefined;
}

const asRef = (r: SecretReference | ConfigReference): Ref =>
  "secretId" in r
    ? { id: r.secretId, name: r.secretName, file: r.file }
    : { id: r.configId, name: r.configName, file: r.file };

function refs(t: TaskSpec | undefined): Array<[SecretKind, string, Ref[]]> {
  const c = t?.container;
  return [
    ["secret", `${C}.secrets`, (c?.secrets ?? []).map(asRef)],
    ["config", `${C}.configs`, (c?.configs ?? []).map(asRef)],
  ];
}

/** The form of every reference: an object named, a numeric owner, permission bits only. */
export function validateSecretRefs(t: TaskSpec | undefined): void {
  for (const [kind, list, items] of refs(t)) {
    items.forEach((r, i) => {
      const field = `${list}[${i}]`;
      if (r.id === "" && r.name === "") {
        throw new InvalidArgumentError(`names no ${kind} (${kind}_name or ${kind}_id)`, { field });
      }
      const f = r.file;
      if (f === undefined) return;
      for (const [key, value] of [
        ["uid", f.uid],
        ["gid", f.gid],
      ] as const) {
        if (value !== "" && !NUMERIC.test(value)) {
          throw new InvalidArgumentError(`${JSON.stringify(value)} is not a numeric id`, {
            field: `${field}.file.${key}`,
          });
        }
      }
      if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777) {
        throw new InvalidArgumentError(`${f.mode} is not a file mode (0 to 0777)`, { field: `${field}.file.mode` });
      }
      if (f.name.includes("\0") || f.name.split("/").includes("..")) {
        throw new InvalidArgumentError(`${JSON.stringify(f.name)} is not a valid file name`, {
          field: `${field}.file.name`,
        });
      }
    });
  }
}

/**
 * The spec with every reference resolved against the store (id and name of the object, defaults
 * filled in); InvalidArgumentError naming the reference for an unknown object or a shared target.
 */
export function resolveSecretRefs(tx: ReadTx, spec: ServiceSpec): ServiceSpec {
  const c = spec.taskTemplate?.container;
  if (c === undefined || (c.secrets.length === 0 && c.configs.length === 0)) return spec;
  const secrets = c.secrets.map((r, i) => {
    const { id, name, file } = resolveOne(tx, "secret", `${C}.secrets[${i}]`, asRef(r));
    return { secretId: id, secretName: name, file };
  });
  const configs = c.configs.map((r, i) => {
    const { id, name, file } = resolveOne(tx, "config", `${C}.configs[${i}]`, asRef(r));
    return { configId: id, configName: name, file };
  });
  checkTargets(`${C}.secrets`, secrets);
  checkTargets(`${C}.configs`, configs);
  return { ...spec, taskTemplate: { ...spec.taskTemplate!, container: { ...c, secrets, configs } } };
}

function resolveOne(tx: ReadTx, kind: SecretKind, field: string, r: Ref): Ref & { file: FileTarget } {
  const table = kind === "secret" ? tx.secrets : tx.configs;
  const found = r.id !== "" ? table.get(r.id) : table.find({ name: r.name })[0];
  if (found === undefined) {
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(r.id !== "" ? r.id : r.name)} not found`, { field });
  }
  const name = found.spec?.annotations?.name ?? "";
  const f = r.file;
  return {
    id: found.id,
    name,
    file: {
      name: f?.name || name,
      uid: f?.uid || "0",
      gid: f?.gid || "0",
      mode: f?.mode || DEFAULT_MODE,
    },
  };
}

function checkTargets(list: string, items: ReadonlyArray<{ readonly file: FileTarget | undefined }>): void {
  const seen = new Map<string, number>();
  items.forEach((r, i) => {
    const target = r.file?.name ?? "";
    const first = seen.get(target);
    if (first !== undefined) {
      throw new InvalidArgumentError(`has the same target ${JSON.stringify(target)} as ${list}[${first}]`, {
        field: `${list}[${i}]`,
      });
    }
    seen.set(target, i);
  });
}
