// What the harness needs from the machine, resolved to absolute paths once. A missing piece is
// an error that says what to install: the harness never skips silently.
import { accessSync, constants, openSync, readSync, closeSync } from "node:fs";
import { delimiter, join } from "node:path";
import { HarnessError } from "./errors.js";

/** Absolute paths of the programs the harness runs. */
export interface Tools {
  readonly dockerd: string;
  readonly docker: string;
  readonly dockerRegistry: string;
  readonly nsenter: string;
  readonly ip: string;
  readonly iptables: string;
  readonly busybox: string;
  readonly umount: string;
  /** A PATH that holds all of the above and what dockerd runs (containerd, runc, shims). */
  readonly path: string;
}

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Program -> the Debian package that provides it. */
const PROGRAMS = {
  dockerd: ["dockerd", "docker.io"],
  docker: ["docker", "docker.io (or docker-cli)"],
  dockerRegistry: ["docker-registry", "docker-registry"],
  nsenter: ["nsenter", "util-linux"],
  ip: ["ip", "iproute2"],
  iptables: ["iptables", "iptables"],
  umount: ["umount", "mount"],
  containerd: ["containerd", "containerd"],
  runc: ["runc", "runc"],
  shim: ["containerd-shim-runc-v2", "containerd"],
} as const;

const BUSYBOX = "/bin/busybox";

/** What checkPrerequisites() looks at; tests override it to see the messages. */
export interface PrerequisiteProbe {
  /** Directories searched for programs (default: PATH, then the usual sbin and bin). */
  readonly dirs?: readonly string[];
  readonly uid?: number;
  readonly busybox?: string;
}

let cached: Tools | undefined;

/** Resolves every tool or throws one PREREQUISITE_MISSING error listing all that is missing. */
export function checkPrerequisites(probe?: PrerequisiteProbe): Tools {
  if (probe === undefined && cached !== undefined) return cached;
  const problems: string[] = [];
  if (process.platform !== "linux") problems.push(`the harness needs Linux (this is ${process.platform})`);
  if ((probe?.uid ?? process.getuid?.()) !== 0) {
    problems.push("the harness must run as root (it creates network namespaces and runs dockerd)");
  }
  const dirs = probe?.dirs ?? [...(process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== ""), ...SYSTEM_DIRS];
  const busybox = probe?.busybox ?? BUSYBOX;
  const found: Partial<Record<keyof typeof PROGRAMS, string>> = {};
  for (const [key, [program, pkg]] of Object.entries(PROGRAMS) as [
    keyof typeof PROGRAMS,
    readonly [string, string],
  ][]) {
    const path = which(program, dirs);
    if (path === undefined) problems.push(`${program} not found (install the Debian package ${pkg})`);
    else found[key] = path;
  }
  if (!isExecutable(busybox)) problems.push(`${busybox} not found (install the Debian package busybox-static)`);
  else if (!isStatic(busybox)) {
    problems.push(`${busybox} is dynamically linked (install busybox-static instead of busybox)`);
  }
  if (problems.length > 0) {
    throw new HarnessError(
      "PREREQUISITE_MISSING",
      `multi-host test harness cannot start:\n  - ${problems.join("\n  - ")}`,
    );
  }
  const { dockerd, docker, dockerRegistry, nsenter, ip, iptables, umount } = found;
  if (!dockerd || !docker || !dockerRegistry || !nsenter || !ip || !iptables || !umount) {
    throw new HarnessError("PREREQUISITE_MISSING", "internal: a resolved tool is missing");
  }
  const tools: Tools = {
    dockerd,
    docker,
    dockerRegistry,
    nsenter,
    ip,
    iptables,
    umount,
    busybox,
    path: [...new Set([...SYSTEM_DIRS, ...dirs])].join(delimiter),
  };
  if (probe === undefined) cached = tools;
  return tools;
}

function which(program: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the ELF file has no program interpreter (PT_INTERP), i.e. is statically linked. */
function isStatic(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4096);
    readSync(fd, head, 0, head.length, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // not 64-bit ELF
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (at + 4 > head.length) break;
      if (head.readUInt32LE(at) === 3) return false; // PT_INTERP
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
