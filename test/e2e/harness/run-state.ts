// A run's footprint on disk: its directory under the harness root, the owner record (which
// process runs it, so that a later run can tell a crashed run from a live one), and the journal
// of every pid it started. Names made by a run all carry its id.
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isAlive, processRef, type ProcessRef } from "./processes.js";

/** Root of every run's directory; SHOAL_HARNESS_ROOT overrides it (keep it short: unix sockets). */
export const HARNESS_ROOT = process.env["SHOAL_HARNESS_ROOT"] ?? "/tmp/shoal-harness";
/** Network namespaces are named `${NETNS_PREFIX}${runId}-${host}`. */
export const NETNS_PREFIX = "shoal-t-";
/** Interfaces in the initial namespace are named `${GATEWAY_PREFIX}${runId}`. */
export const GATEWAY_PREFIX = "shoalgw-";
/** The bridge (inside the run's switch namespace) is named `${BRIDGE_PREFIX}${runId}`. */
export const BRIDGE_PREFIX = "shoalbr-";
/** Run ids: 6 characters, so that `shoalgw-<id>` fits the 15-character interface name limit. */
export const RUN_ID_PATTERN = /^[a-z0-9]{1,7}$/;

export interface OwnerRecord {
  readonly runId: string;
  readonly pid: number;
  readonly startTime: number;
  readonly created: string;
}

export function newRunId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length] ?? "x").join("");
}

export function runDir(runId: string): string {
  return join(HARNESS_ROOT, runId);
}

export function netnsName(runId: string, host: string): string {
  return `${NETNS_PREFIX}${runId}-${host}`;
}

/** Creates the run directory and records this process as its owner. */
export async function claimRun(runId: string): Promise<string> {
  const dir = runDir(runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const me = processRef(process.pid);
  const owner: OwnerRecord = {
    runId,
    pid: process.pid,
    startTime: me?.startTime ?? 0,
    created: new Date().toISOString(),
  };
  writeFileSync(join(dir, "owner.json"), `${JSON.stringify(owner)}\n`);
  return dir;
}

/** True when the run's owner process is still alive (its resources must not be touched). */
export function isRunLive(runId: string): boolean {
  const owner = readOwner(runId);
  return owner !== undefined && isAlive({ pid: owner.pid, startTime: owner.startTime });
}

function readOwner(runId: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir(runId), "owner.json"), "utf8")) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** Appends a started process to the run's pid journal (read back by a later cleanup). */
export function journalPid(runId: string, ref: ProcessRef, label: string): void {
  appendFileSync(join(runDir(runId), "pids"), `${ref.pid} ${ref.startTime} ${label}\n`);
}

export function readJournal(runId: string): ProcessRef[] {
  let text: string;
  try {
    text = readFileSync(join(runDir(runId), "pids"), "utf8");
  } catch {
    return [];
  }
  const refs: ProcessRef[] = [];
  for (const line of text.split("\n")) {
    const [pid, startTime] = line.split(" ");
    if (pid !== undefined && startTime !== undefined && pid !== "") {
      refs.push({ pid: Number(pid), startTime: Number(startTime) });
    }
  }
  return refs;
}
