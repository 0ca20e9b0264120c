// Process liveness, for pid files and tests.
import { readFileSync } from "node:fs";

/**
 * Whether `pid` runs. A zombie does not: daemons started in the background are reparented to
 * init when their parent exits, and init may take a while to reap them.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const end = stat.lastIndexOf(")");
    return stat.slice(end + 2, end + 3) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
