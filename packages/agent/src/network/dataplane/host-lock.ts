// One data plane per host: the agent that holds the host's lock file drives it. The file is
// created exclusively and holds the owner's pid and the process's start time (so a pid reused by
// another process does not keep the lock); a lock whose owner is gone is taken over. The lock is
// per network namespace (what a data plane programs), so test hosts made of namespaces on one
// machine each have their own.
import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export const DEFAULT_LOCK_DIR = "/run/shoal";

export interface HostLock {
  readonly path: string;
  /** Removes the file when it is still ours; idempotent. */
  release(): void;
}

/**
 * The lock file of this process's network namespace: `/run/shoal/dataplane.lock` in the
 * initial namespace (the one of pid 1), `/run/shoal/dataplane-net<inode>.lock` in another.
 */
export function defaultLockPath(dir: string = DEFAULT_LOCK_DIR): string {
  const self = netnsId(process.pid);
  const init = netnsId(1);
  return self === undefined || self === init ? `${dir}/dataplane.lock` : `${dir}/dataplane-net${self}.lock`;
}

/** Takes the lock at `path`, or returns undefined when a live process holds it. */
export function tryHostLock(path: string, pid: number = process.pid): HostLock | undefined {
  mkdirSync(dirname(path), { recursive: true });
  const mine = `${pid} ${startTime(pid) ?? ""}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (create(path, mine)) {
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          if (read(path) === mine) rmSync(path, { force: true });
        },
      };
    }
    const held = read(path);
    if (held === undefined) continue; // removed meanwhile: try again
    if (ownerAlive(held)) return undefined;
    // The owner is gone: remove its file (unless it changed meanwhile) and try again.
    if (read(path) === held) rmSync(path, { force: true });
  }
  return undefined;
}

function create(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o644);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** "PID STARTTIME": alive when the pid runs and (when recorded) started at that time. */
export function ownerAlive(content: string): boolean {
  const [pidText, started] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = startTime(pid);
  if (now === undefined) return false;
  return started === undefined || started === "" || started === now;
}

/** The process's start time (field 22 of /proc/PID/stat), undefined when it does not exist. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

function netnsId(pid: number): string | undefined {
  try {
    return /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1];
  } catch {
    return undefined;
  }
}
