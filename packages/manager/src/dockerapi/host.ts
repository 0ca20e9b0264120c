// The manager's host as Docker describes its engine's: /version gives Go's architecture names
// ("amd64"), /info and node descriptions the kernel's ("x86_64"), the operating system as
// /etc/os-release names it.
import { readFile, readdir } from "node:fs/promises";
import { arch, machine } from "node:os";

const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };
/** Go's names where the kernel's differ and are unambiguous. */
const KERNEL_ARCH: Readonly<Record<string, string>> = { amd64: "x86_64", arm64: "aarch64" };

/** This host's architecture as Go names it (Docker's /version Arch). */
export function goArch(): string {
  return GO_ARCH[arch()] ?? arch();
}

/** This host's architecture as the kernel names it (Docker's /info Architecture). */
export function kernelArch(): string {
  return machine();
}

/** A node's architecture, reported as Go names it, as Docker shows it in a node description. */
export function nodeArch(goName: string): string {
  return KERNEL_ARCH[goName] ?? goName;
}

export interface OsRelease {
  /** "Debian GNU/Linux 12 (bookworm)" (Docker's OperatingSystem). */
  readonly prettyName: string;
  /** "12" (Docker's OSVersion). */
  readonly versionId: string;
}

/** Reads an os-release file (KEY=value lines, values maybe quoted); empty names when unreadable. */
export async function readOsRelease(path = "/etc/os-release"): Promise<OsRelease> {
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    // not a Linux distribution that says
  }
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return { prettyName: values.get("PRETTY_NAME") ?? "", versionId: values.get("VERSION_ID") ?? "" };
}

/** Open file descriptors of this process (Docker's NFd); 0 where /proc does not say. */
export async function openFileCount(): Promise<number> {
  try {
    return (await readdir("/proc/self/fd")).length;
  } catch {
    return 0;
  }
}
