// One writer per WAL directory. Node has no flock(), so the lock is a `.lock` file created exclusively
// (O_EXCL) holding the owner's pid and process start time. A lock left by a process that died (kill -9,
// power loss) is taken over: its pid is gone, or now belongs to a process started at another time (pid
// reuse, a container whose pid 1 restarted). Opening the same directory twice in one process is refused
// before touching the file.
import { readFileSync } from "node:fs";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { RaftLogger } from "../logger.js";
import { WalLockedError } from "./errors.js";

export const LOCK_FILE = ".lock";

const heldInProcess = new Set<string>();

interface LockContent {
  pid: number;
  start: string | undefined;
}

/** Start time of a process in clock ticks since boot (Linux); undefined where /proc is not available. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseLock(text: string): LockContent | undefined {
  const m = /^pid=(\d+) start=(\S*)\s*$/.exec(text);
  if (m === null) return undefined;
  return { pid: Number(m[1]), start: m[2] === "" ? undefined : m[2] };
}

export class DirLock {
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly key: string,
  ) {}

  static async acquire(dir: string, logger: RaftLogger): Promise<DirLock> {
    const key = resolve(dir);
    if (heldInProcess.has(key)) {
      throw new WalLockedError(dir, process.pid, "already open in this process; close it first");
    }
    heldInProcess.add(key);
    try {
      const path = join(dir, LOCK_FILE);
      const mine = `pid=${process.pid} start=${processStart(process.pid) ?? ""}\n`;
      for (let attempt = 0; ; attempt++) {
        try {
          await writeFile(path, mine, { flag: "wx" });
          return new DirLock(dir, key);
        } catch (err: unknown) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 2) throw err;
        }
        let text: string;
        try {
          text = await readFile(path, "utf8");
        } catch (err: unknown) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
          throw err;
        }
        const holder = parseLock(text);
        if (holder !== undefined && holder.pid !== process.pid && isAlive(holder.pid)) {
          const start = processStart(holder.pid);
          if (holder.start === undefined || start === undefined || start === holder.start) {
            throw new WalLockedError(dir, holder.pid, `held by process ${holder.pid} (${path})`);
          }
        }
        logger.warn("taking over a stale write-ahead log lock", {
          component: "wal",
          dir,
          holder: holder === undefined ? text.slice(0, 64) : holder.pid,
        });
        await unlink(path).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        });
      }
    } catch (err: unknown) {
      heldInProcess.delete(key);
      throw err;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await unlink(join(this.dir, LOCK_FILE));
    } finally {
      heldInProcess.delete(this.key);
    }
  }
}
