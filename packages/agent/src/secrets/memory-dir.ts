// The agent's directory for the files of secrets and configs: memory-backed storage only, never
// a disk. At start the agent makes sure of it: a tmpfs or ramfs is used as it is; anything else
// gets a tmpfs mounted on it when the agent runs as root (before the first file; unmounted when
// the agent stops); otherwise the directory is unusable and tasks that use a secret or config
// fail saying why (tasks without them run). Whatever an earlier run left in it is removed.
import { execFile } from "node:child_process";
import { chmod, mkdir, readdir, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { errorMessage, type Logger } from "@shoal/shared";

/** statfs(2) f_type of a tmpfs (linux/magic.h). */
export const TMPFS_MAGIC = 0x01021994;
/** statfs(2) f_type of a ramfs. */
export const RAMFS_MAGIC = 0x858458f6;
/** The size of the tmpfs the agent mounts: room for many secrets (500 KiB) and configs (1000 KiB). */
export const MEMORY_DIR_SIZE_BYTES = 64 * 2 ** 20;

const run = promisify(execFile);

export interface MemoryDirOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Size of the tmpfs mounted when the directory is not memory-backed; default 64 MiB. */
  readonly sizeBytes?: number;
}

export interface MemoryDir {
  readonly dir: string;
  /** Why the directory cannot hold secrets; undefined when it can. */
  readonly problem: string | undefined;
  /** Whether a tmpfs must be mounted on it before the first file (the agent runs as root). */
  readonly needsMount: boolean;
}

/** Whether `dir` is on a memory-backed filesystem; the filesystem's type number otherwise. */
export async function memoryBacked(dir: string): Promise<true | number> {
  const type = (await statfs(dir)).type >>> 0;
  return type === TMPFS_MAGIC || type === RAMFS_MAGIC ? true : type;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * At the agent's start: makes the directory (0700), checks that it is memory-backed (or that
 * the agent, being root, can mount a tmpfs on it: mountMemoryDir does, on first use, so that
 * agents whose tasks use no secrets mount nothing), and empties it. Never throws.
 */
export async function prepareMemoryDir(options: MemoryDirOptions): Promise<MemoryDir> {
  const { dir, logger } = options;
  let needsMount = false;
  let problem: string | undefined;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Someone else's directory (made beforehand in a shared place) could be opened up again.
    const owner = (await stat(dir)).uid;
    if (owner !== process.getuid?.()) throw new Error(`it belongs to uid ${owner}, not to the agent`);
    await chmod(dir, 0o700);
    const backed = await memoryBacked(dir);
    if (backed !== true && isRoot()) needsMount = true;
    else if (backed !== true) {
      problem =
        `${dir} is not memory-backed (filesystem type 0x${backed.toString(16)}) and the agent, not being ` +
        `root, cannot mount a tmpfs on it: give a tmpfs directory with --secrets-dir`;
    }
    // What an earlier run left (it was killed before its tasks' files were removed).
    for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
  } catch (err: unknown) {
    problem ??= `cannot prepare ${dir} for secrets: ${errorMessage(err)}`;
  }
  if (problem !== undefined) logger.warn({ dir, problem }, "tasks that use secrets or configs will fail");
  return { dir, problem, needsMount };
}

/** Mounts a tmpfs (mode 0700) on the directory; returns why the directory is unusable, if it is. */
export async function mountMemoryDir(
  memory: MemoryDir,
  logger: Logger,
  sizeBytes = MEMORY_DIR_SIZE_BYTES,
): Promise<string | undefined> {
  const dir = memory.dir;
  try {
    if ((await memoryBacked(dir)) !== true) {
      await run("mount", ["-t", "tmpfs", "-o", `mode=0700,size=${sizeBytes},nosuid,nodev`, "shoal-secrets", dir]);
      logger.info({ dir }, "mounted a tmpfs for the files of secrets and configs");
    }
    const backed = await memoryBacked(dir);
    return backed === true ? undefined : `${dir} is still not memory-backed after mounting a tmpfs on it`;
  } catch (err: unknown) {
    return `cannot mount a tmpfs on ${dir}: ${errorMessage(err)}`;
  }
}

/** Unmounts the tmpfs the agent mounted (lazily: running containers keep their files). */
export async function unmountMemoryDir(dir: string, logger: Logger): Promise<void> {
  try {
    await run("umount", ["-l", dir]);
  } catch (err: unknown) {
    logger.warn({ dir, err: errorMessage(err) }, "cannot unmount the tmpfs of secrets");
  }
}

/**
 * Where an agent keeps the files of secrets and configs by default: /run/shoal/<node id> for
 * root, $XDG_RUNTIME_DIR/shoal/<node id> (a tmpfs of the user's) otherwise. One per node, so
 * that agents sharing a host (shoal up) do not share it.
 */
export function defaultSecretsDir(nodeId: string): string {
  const runtime = process.env["XDG_RUNTIME_DIR"];
  const base = process.getuid?.() !== 0 && runtime !== undefined && runtime !== "" ? runtime : "/run";
  return join(base, "shoal", nodeId);
}
