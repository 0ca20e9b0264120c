// Probing service networking from inside task containers (busybox): resolve a name with nslookup
// (busybox's own resolver; the libc resolver of busybox-static is unusable in a bare image) and
// GET / with nc; and times on one clock shared with the containers (the kernel's uptime).
import { readFile } from "node:fs/promises";
import type { Task } from "@shoal/shared";
import type { Host } from "../harness/index.js";

/** A web server whose answer is its container's hostname: one body per replica. */
export const HTTPD = "busybox mkdir -p /www && busybox hostname > /www/index.html && exec httpd -f -p 80 -h /www";

/**
 * Shell functions: `resolve NAME` prints the last address nslookup gives; `get ADDR PORT` the body;
 * `seq` and `cut` (not linked in the base image).
 */
export const FETCH = [
  "resolve() { busybox nslookup \"$1\" 2>/dev/null | busybox awk '/^Name:/ {n=1} n && /^Address/ {a=$NF} END {print a}'; }",
  'get() { printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 "$1" "$2" 2>/dev/null | busybox tail -n 1; }',
  'seq() { busybox seq "$@"; }',
  'cut() { busybox cut "$@"; }',
].join("\n");

/** A body HTTPD serves: a container's short id. */
export const REPLICA_BODY = /^[0-9a-f]{12}$/;

/** The container of the (first) running task of `service` on `h`. */
export async function containerOf(h: Host, service: string): Promise<string> {
  const out = await h.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${service}`]);
  const id = out.stdout.trim().split("\n")[0] ?? "";
  if (id === "") throw new Error(`no container of ${service} on ${h.name}`);
  return id;
}

/** Runs a shell script, with FETCH's functions, in `container` on `h`; its stdout. */
export async function sh(h: Host, container: string, script: string): Promise<string> {
  const r = await h.docker(["exec", container, "sh", "-c", `${FETCH}\n${script}`], { timeoutMs: 180_000 });
  return r.stdout;
}

/** Seconds since boot: the clock `cut -d" " -f1 /proc/uptime` reads inside a container too. */
export async function uptime(): Promise<number> {
  return Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
}

/** The addresses (CIDR) the tasks have on network `networkId`. */
export function addressesOf(tasks: readonly Task[], networkId: string): string[] {
  return tasks.flatMap((t) => t.networks.filter((a) => a.networkId === networkId).flatMap((a) => a.addresses));
}
