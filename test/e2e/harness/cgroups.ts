// Container cgroups a test host leaves behind. Each host's dockerd runs with
// --cgroup-parent=<host namespace name>, so its containers' cgroups sit in directories named like
// the namespace (at the hierarchy root, or under the caller's own cgroup for controllers where
// it is not the root). A SIGKILLed dockerd does not remove them; this does, once they are empty.
import { readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";

const MAX_DEPTH = 4;

/** Cgroup directories whose name starts with `prefix`, in every mounted hierarchy. */
export function cgroupsNamed(prefix: string): string[] {
  const found: string[] = [];
  for (const root of cgroupMounts()) walk(root, 0, prefix, found);
  return found;
}

/** Removes the cgroups named with `prefix` and their (empty) children. Returns what stayed. */
export function removeCgroups(prefix: string): string[] {
  const stayed: string[] = [];
  for (const dir of cgroupsNamed(prefix)) {
    if (!removeTree(dir)) stayed.push(dir);
  }
  return stayed;
}

function cgroupMounts(): string[] {
  const mounts: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const fstype = right?.split(" ")[0];
    const point = left?.split(" ")[4];
    if (point !== undefined && (fstype === "cgroup" || fstype === "cgroup2")) mounts.push(point);
  }
  return mounts;
}

function walk(dir: string, depth: number, prefix: string, found: string[]): void {
  if (depth > MAX_DEPTH) return;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith(prefix)) found.push(path);
    else walk(path, depth + 1, prefix, found);
  }
}

/** rmdir depth first (cgroup directories only hold pseudo files, which rmdir ignores). */
function removeTree(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  for (const entry of entries) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}
