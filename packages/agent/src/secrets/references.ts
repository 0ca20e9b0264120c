// The files a task asks for: one per secret or config reference of its container spec, with
// where it appears in the container, whose it is and its mode (Swarm's defaults: a relative
// secret name under /run/secrets, a relative config name under /, owner 0:0, mode 0444), and
// the data it holds, found among the secrets and configs the managers sent this node.
import path from "node:path";
import { ErrorCode, type FileTarget, type Task } from "@shoal/shared";
import { ExecError, ExecErrorReason } from "../exec/errors.js";
import type { Dependencies } from "./dependency-store.js";

/** Where a secret with a relative file name appears in the container (Docker's). */
export const SECRETS_TARGET_DIR = "/run/secrets";
/** Where a config with a relative file name appears in the container (Docker's: at the root). */
export const CONFIGS_TARGET_DIR = "/";
/** The mode of a file whose reference gives none. */
export const DEFAULT_FILE_MODE = 0o444;

export type FileKind = "secret" | "config";

/** One file a task asks for, before its data is known. */
export interface FileRef {
  readonly kind: FileKind;
  /** The secret's or config's id. */
  readonly id: string;
  /** Its name, for messages. */
  readonly name: string;
  /** The reference's field in the task, for messages: `spec.container.secrets[0]`. */
  readonly field: string;
  /** The absolute path in the container. */
  readonly target: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** A file with its data: what the agent writes for the task. */
export interface ResolvedFile extends FileRef {
  readonly data: Uint8Array;
}

function invalid(task: Task, field: string, message: string): ExecError {
  return new ExecError(ErrorCode.InvalidArgument, ExecErrorReason.InvalidSpec, `task ${task.id}: ${field}: ${message}`);
}

function owner(task: Task, field: string, value: string): number {
  if (value === "") return 0;
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw invalid(task, field, `"${value}" is not a numeric id`);
  return Number(value);
}

function fileRef(
  task: Task,
  kind: FileKind,
  field: string,
  ref: { readonly id: string; readonly name: string; readonly file: FileTarget | undefined },
): FileRef {
  const file = ref.file;
  const name = file?.name || ref.name;
  if (name === "" || name.includes("\0")) throw invalid(task, `${field}.file.name`, "no file name");
  const base = kind === "secret" ? SECRETS_TARGET_DIR : CONFIGS_TARGET_DIR;
  const joined = path.posix.isAbsolute(name) ? path.posix.normalize(name) : path.posix.join(base, name);
  const target = joined.length > 1 ? joined.replace(/\/+$/, "") : joined;
  if (target === "/" || target === SECRETS_TARGET_DIR || name.endsWith("/"))
    throw invalid(task, `${field}.file.name`, `"${name}" names no file`);
  const mode = file?.mode || DEFAULT_FILE_MODE;
  if (mode > 0o7777) throw invalid(task, `${field}.file.mode`, `${mode.toString(8)} is not a file mode`);
  if (ref.id === "") throw invalid(task, field, `${kind} "${ref.name}" has no id`);
  return {
    kind,
    id: ref.id,
    name: ref.name || ref.id,
    field,
    target,
    uid: owner(task, `${field}.file.uid`, file?.uid ?? ""),
    gid: owner(task, `${field}.file.gid`, file?.gid ?? ""),
    mode,
  };
}

/** The files the task's container spec asks for, secrets first; [] for none. */
export function taskFileRefs(task: Task): FileRef[] {
  const spec = task.spec?.container;
  if (spec === undefined) return [];
  const base = "spec.container";
  return [
    ...spec.secrets.map((r, i) =>
      fileRef(task, "secret", `${base}.secrets[${i}]`, { id: r.secretId, name: r.secretName, file: r.file }),
    ),
    ...spec.configs.map((r, i) =>
      fileRef(task, "config", `${base}.configs[${i}]`, { id: r.configId, name: r.configName, file: r.file }),
    ),
  ];
}

/** The error of a task whose secret or config this node does not hold. */
export function missingFileError(task: Task, ref: FileRef): ExecError {
  return new ExecError(
    ErrorCode.NotFound,
    ExecErrorReason.TaskFiles,
    `task ${task.id}: ${ref.kind} "${ref.name}" (${ref.id}, ${ref.field}) is not on this node: ` +
      `the managers have not sent it`,
  );
}

/** The task's files with their data; throws naming the first secret or config this node lacks. */
export function resolveTaskFiles(task: Task, dependencies: Dependencies | undefined): ResolvedFile[] {
  return taskFileRefs(task).map((ref) => {
    const object = ref.kind === "secret" ? dependencies?.secret(ref.id) : dependencies?.config(ref.id);
    if (object === undefined) throw missingFileError(task, ref);
    return { ...ref, data: object.spec?.data ?? new Uint8Array() };
  });
}
