// The process table as /proc shows it: which processes live in a network namespace, their
// descendants, and killing a set of them for good. Pids are paired with their start time so that
// a reused pid is never mistaken for one of ours.
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { HarnessError } from "./errors.js";

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Clock ticks since boot (field 22 of /proc/PID/stat): with the pid, identifies a process. */
  readonly startTime: number;
  /** One-letter state; "Z" is a zombie, which counts as dead. */
  readonly state: string;
  /** Inode of its network namespace, undefined when unreadable (zombie, gone). */
  readonly netns: number | undefined;
}

/** A pid with its start time, as recorded in a run's state file. */
export interface ProcessRef {
  readonly pid: number;
  readonly startTime: number;
}

export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = rest[0] ?? "?";
  const ppid = Number(rest[1]);
  const startTime = Number(rest[19]);
  let netns: number | undefined;
  try {
    const link = readlinkSync(`/proc/${pid}/ns/net`);
    const match = /^net:\[(\d+)\]$/.exec(link);
    netns = match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    netns = undefined;
  }
  return { pid, ppid, startTime, state, netns };
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info !== undefined) out.push(info);
  }
  return out;
}

/** The identity of a live (non-zombie) process, or undefined. */
export function processRef(pid: number): ProcessRef | undefined {
  const info = readProcess(pid);
  return info === undefined || info.state === "Z" ? undefined : { pid, startTime: info.startTime };
}

/** True while the process is alive (a zombie is dead) and is still the same process. */
export function isAlive(ref: ProcessRef): boolean {
  const info = readProcess(ref.pid);
  return info !== undefined && info.state !== "Z" && info.startTime === ref.startTime;
}

/** Inode of the network namespace bound at `path` (e.g. /run/netns/NAME), or undefined. */
export function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Every live process whose network namespace is one of `inodes`, plus all their descendants
 * (containers have their own namespaces but descend from shims that live in the host's).
 */
export function processesOfNetns(inodes: ReadonlySet<number>): ProcessInfo[] {
  const all = listProcesses().filter((p) => p.state !== "Z");
  const children = new Map<number, ProcessInfo[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  const selected = new Map<number, ProcessInfo>();
  const queue = all.filter((p) => p.netns !== undefined && inodes.has(p.netns));
  while (queue.length > 0) {
    const p = queue.pop();
    if (p === undefined || selected.has(p.pid) || p.pid === process.pid || p.pid === 1) continue;
    selected.set(p.pid, p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  return [...selected.values()];
}

/**
 * Sends `signal` to each process that is still the one referred to, then waits until all are
 * dead (zombies count as dead). Throws TIMEOUT if some survive `timeoutMs`.
 */
export async function killAndWait(
  refs: readonly ProcessRef[],
  signal: NodeJS.Signals = "SIGKILL",
  timeoutMs = 10_000,
): Promise<void> {
  const targets = refs.filter(isAlive);
  for (const ref of targets) {
    try {
      process.kill(ref.pid, signal);
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = targets.filter(isAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) {
      throw new HarnessError("TIMEOUT", `processes still alive after ${signal}: ${alive.map((r) => r.pid).join(", ")}`);
    }
    await sleep(20);
  }
}

/** Synchronous best effort SIGKILL, for process exit handlers. */
export function killNow(refs: readonly ProcessRef[]): void {
  for (const ref of refs) {
    if (!isAlive(ref)) continue;
    try {
      process.kill(ref.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
