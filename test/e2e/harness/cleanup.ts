// Removing everything a run made, by pid and by name: its processes (journaled pids, and every
// process in its namespaces with their descendants), mounts under its directory, shim sockets,
// namespaces, the initial namespace's veth, container cgroups, the directory, the subnet lease.
// The same code disposes a live harness and sweeps the leftovers of crashed runs.
import { cpSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { removeCgroups, cgroupsNamed } from "./cgroups.js";
import { runCommand } from "./command.js";
import { removeShimSockets } from "./dockerd.js";
import { mountsUnder, unmountUnder } from "./mounts.js";
import { netnsPath } from "./network.js";
import type { Tools } from "./prerequisites.js";
import { isAlive, killAndWait, netnsInode, processesOfNetns } from "./processes.js";
import {
  GATEWAY_PREFIX,
  BRIDGE_PREFIX,
  HARNESS_ROOT,
  NETNS_PREFIX,
  RUN_ID_PATTERN,
  isRunLive,
  readJournal,
  runDir,
} from "./run-state.js";
import { reclaimStaleLeases, releaseSubnet } from "./subnet.js";

export interface CleanOptions {
  /** Copy the run's logs and configuration (not data roots or registry storage) here first. */
  readonly keepLogsIn?: string;
}

/** Removes every trace of `runId`. Returns what could not be removed (empty when all went). */
export async function cleanRun(tools: Tools, runId: string, options: CleanOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (what: string, step: () => unknown): Promise<void> => {
    try {
      await step();
    } catch (err: unknown) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const dir = runDir(runId);
  const namespaces = runNamespaces(runId);

  await attempt("kill processes", async () => {
    const inodes = new Set(namespaces.map((ns) => netnsInode(netnsPath(ns))).filter((i) => i !== undefined));
    for (let round = 0; round < 10; round++) {
      const victims = [...readJournal(runId).filter(isAlive), ...processesOfNetns(inodes)];
      if (victims.length === 0) return;
      await killAndWait(victims, "SIGKILL");
    }
    throw new Error("processes keep appearing");
  });
  await attempt("unmount", () => unmountUnder(tools.umount, dir));
  await attempt("shim sockets", () => {
    for (const host of safeReaddir(dir)) removeShimSockets(join(dir, host));
  });
  for (const ns of namespaces) {
    await attempt(`netns ${ns}`, () => runCommand(tools.ip, ["netns", "delete", ns]));
  }
  await attempt("links", async () => {
    for (const link of rootLinksOf(await rootLinks(tools), runId)) {
      try {
        await runCommand(tools.ip, ["link", "delete", link]);
      } catch (err: unknown) {
        // The kernel tears a deleted namespace down in the background, and with it the veth ends
        // whose peers were inside: a link listed a moment ago can be gone by now. Only a link
        // still there is a problem.
        if (rootLinksOf(await rootLinks(tools), runId).includes(link)) throw err;
      }
    }
  });
  await attempt("cgroups", () => {
    const stayed = removeCgroups(`${NETNS_PREFIX}${runId}-`);
    if (stayed.length > 0) throw new Error(`busy: ${stayed.join(", ")}`);
  });
  if (options.keepLogsIn !== undefined) {
    const target = options.keepLogsIn;
    const skipped = new Set(["data", "exec", "storage"]);
    await attempt("keep logs", () =>
      cpSync(dir, target, {
        recursive: true,
        filter: (src) => !skipped.has(basename(src)) && !src.endsWith(".sock"),
      }),
    );
  }
  await attempt("run directory", () => {
    const mounted = mountsUnder(dir);
    if (mounted.length > 0) throw new Error(`still mounted: ${mounted.join(", ")}`);
    rmSync(dir, { recursive: true, force: true });
  });
  releaseSubnet(runId);
  return problems;
}

/**
 * Cleans every run whose owner process is gone (a crashed or killed earlier run), found by name:
 * namespaces, initial-namespace interfaces, cgroups and directories. Live runs are left alone
 * unless `includeLive` (for a manual clean-up when no test runs).
 */
export async function sweepStaleRuns(
  tools: Tools,
  options: { readonly includeLive?: boolean } = {},
): Promise<{ runIds: string[]; problems: string[] }> {
  const ids = new Set<string>();
  for (const ns of allNetns()) {
    const id = /^shoal-t-([a-z0-9]+)-/.exec(ns)?.[1];
    if (id !== undefined) ids.add(id);
  }
  for (const link of await rootLinks(tools)) {
    const id = new RegExp(`^(?:${GATEWAY_PREFIX}|${BRIDGE_PREFIX})([a-z0-9]+)$`).exec(link)?.[1];
    if (id !== undefined) ids.add(id);
  }
  for (const cg of cgroupsNamed(NETNS_PREFIX)) {
    const id = /\/shoal-t-([a-z0-9]+)-[^/]*$/.exec(cg)?.[1];
    if (id !== undefined) ids.add(id);
  }
  for (const name of safeReaddir(HARNESS_ROOT)) if (RUN_ID_PATTERN.test(name)) ids.add(name);

  const stale = [...ids].filter((id) => options.includeLive === true || !isRunLive(id));
  const problems: string[] = [];
  for (const id of stale) problems.push(...(await cleanRun(tools, id)).map((p) => `${id}: ${p}`));
  reclaimStaleLeases();
  return { runIds: stale, problems };
}

/** Names of the network namespaces of a run (`shoal-t-<runId>-*`). */
export function runNamespaces(runId: string): string[] {
  return allNetns().filter((ns) => ns.startsWith(`${NETNS_PREFIX}${runId}-`));
}

function allNetns(): string[] {
  return safeReaddir("/run/netns");
}

/** Interface names in the initial namespace. */
export async function rootLinks(tools: Tools): Promise<string[]> {
  const { stdout } = await runCommand(tools.ip, ["-o", "link", "show"]);
  const names: string[] = [];
  for (const line of stdout.split("\n")) {
    const name = /^\d+: ([^:@]+)[:@]/.exec(line)?.[1];
    if (name !== undefined) names.push(name);
  }
  return names;
}

function rootLinksOf(links: readonly string[], runId: string): string[] {
  return links.filter((l) => l === `${GATEWAY_PREFIX}${runId}` || l === `${BRIDGE_PREFIX}${runId}`);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
