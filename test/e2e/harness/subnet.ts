// Test subnets: 10.213.X.0/24, one per run, leased with an exclusively created file so that
// concurrent runs (vitest workers) never share one, and skipped when the initial namespace
// already routes it.
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./command.js";
import { HarnessError } from "./errors.js";
import { HARNESS_ROOT, isRunLive } from "./run-state.js";

export const SUBNET_BASE = "10.213";
const LEASES = join(HARNESS_ROOT, "subnet-leases");

export interface Subnet {
  /** The third octet: the subnet is `${SUBNET_BASE}.${octet}.0/24`. */
  readonly octet: number;
  readonly cidr: string;
  /** `.1`: the harness side (initial namespace), where the registry listens. */
  readonly gateway: string;
  /** Address of the i-th host (0-based): `.11`, `.12`, ... */
  hostAddress(index: number): string;
}

export function subnet(octet: number): Subnet {
  const net = `${SUBNET_BASE}.${octet}`;
  return {
    octet,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
    hostAddress: (index: number) => `${net}.${11 + index}`,
  };
}

/** Leases a free subnet for `runId`, reclaiming leases of runs that are no longer live. */
export async function leaseSubnet(ip: string, runId: string): Promise<Subnet> {
  mkdirSync(LEASES, { recursive: true });
  const routes = (await runCommand(ip, ["-4", "route", "show", "table", "all"])).stdout;
  const start = 1 + Math.floor(Math.random() * 250);
  for (let i = 0; i < 250; i++) {
    const octet = 1 + ((start + i) % 250);
    if (routes.includes(`${SUBNET_BASE}.${octet}.`)) continue;
    const file = join(LEASES, String(octet));
    if (tryCreate(file, runId)) return subnet(octet);
  }
  throw new HarnessError("NO_FREE_SUBNET", `no free ${SUBNET_BASE}.X.0/24 subnet (see ${LEASES})`);
}

export function releaseSubnet(runId: string): void {
  for (const octet of leasedBy(runId)) rmSync(join(LEASES, String(octet)), { force: true });
}

/** Removes the leases of runs whose owner is gone (an empty lease is being written: kept). */
export function reclaimStaleLeases(): void {
  for (const [octet, owner] of leases()) {
    if (owner !== "" && !isRunLive(owner)) rmSync(join(LEASES, String(octet)), { force: true });
  }
}

function leasedBy(runId: string): number[] {
  return leases()
    .filter(([, owner]) => owner === runId)
    .map(([octet]) => octet);
}

function leases(): [number, string][] {
  let names: string[];
  try {
    names = readdirSync(LEASES);
  } catch {
    return [];
  }
  const out: [number, string][] = [];
  for (const name of names) {
    try {
      out.push([Number(name), readFileSync(join(LEASES, name), "utf8").trim()]);
    } catch {
      // released meanwhile
    }
  }
  return out;
}

function tryCreate(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx");
  } catch {
    return false;
  }
  try {
    writeSync(fd, `${content}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}
