// Unmounting what dockerd and containerd leave under a run's directory (overlay mounts, the
// exec root's netns/default bind mount, shm), deepest first, so that the directory can go.
import { readFileSync } from "node:fs";
import { runCommand } from "./command.js";

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const point = unescapeMountPath(field);
    if (point === dir || point.startsWith(prefix)) points.add(point);
  }
  return [...points].sort((a, b) => b.length - a.length);
}

/** Unmounts (lazily, so that a busy mount cannot block cleanup) everything under `dir`. */
export async function unmountUnder(umount: string, dir: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const point of points) await runCommand(umount, ["-l", point], { check: false, timeoutMs: 10_000 });
  }
}

/** /proc/self/mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
