// Validation of the rest of Docker's container spec (hostname and its templates, groups,
// capabilities, sysctls, ulimits, hosts, DNS, isolation), of the log driver and of the pids limit.
// What the daemon would refuse when the container is created is refused here, with the field
// named, so that a bad spec is never stored.
import { isIP } from "node:net";
import {
  checkTemplate,
  InvalidArgumentError,
  TemplateError,
  type ContainerSpec,
  type DNSConfig,
  type TaskSpec,
} from "@shoal/shared";

const T = "spec.task_template";
const C = `${T}.container`;

/** The capabilities of Linux that Docker knows, without their CAP_ prefix. */
export const LINUX_CAPABILITIES: ReadonlySet<string> = new Set([
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE",
]); // prettier-ignore

/** The resource limits Docker's --ulimit names (setrlimit's, without RLIMIT_). */
export const ULIMIT_NAMES: ReadonlySet<string> = new Set([
  "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
  "rttime", "sigpending", "stack",
]); // prettier-ignore

const SYSCTL_KEY = /^[a-zA-Z0-9_]+(?:[./][a-zA-Z0-9_-]+)+$/;
/** The kernel parameters a container has its own copy of (runc's list): others are the host's. */
const NAMESPACED_SYSCTLS = new Set([
  "kernel.domainname", "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
  "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
]); // prettier-ignore
const NAMESPACED_PREFIXES = ["net.", "fs.mqueue."];

function isNamespaced(key: string): boolean {
  const k = key.replaceAll("/", ".");
  return NAMESPACED_SYSCTLS.has(k) || NAMESPACED_PREFIXES.some((p) => k.startsWith(p));
}
const HOST_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/;
const HOSTNAME_CHARS = /^[a-zA-Z0-9.-]*$/;
/** The kernel's HOST_NAME_MAX. */
const MAX_HOSTNAME = 64;
const NO_SPACE = /^\S+$/;

function fail(message: string, field: string): never {
  throw new InvalidArgumentError(message, { field });
}

/** Throws when `value` holds a template an agent could not expand. */
export function validateTemplate(value: string, field: string): void {
  try {
    checkTemplate(value);
  } catch (err: unknown) {
    if (err instanceof TemplateError) fail(`bad template: ${err.message}`, field);
    throw err;
  }
}

/** A capability as Docker takes it: a known name, with or without CAP_, any case; or ALL. */
function isCapability(name: string): boolean {
  const upper = name.toUpperCase();
  return upper === "ALL" || LINUX_CAPABILITIES.has(upper.startsWith("CAP_") ? upper.slice(4) : upper);
}

function validateHostname(hostname: string): void {
  const field = `${C}.hostname`;
  validateTemplate(hostname, field);
  // Templates are expanded on the node; what is around them must make a host name.
  const fixed = hostname.replace(/\{\{.*?\}\}/g, "");
  if (!HOSTNAME_CHARS.test(fixed)) {
    fail(`"${hostname}" is not a host name (letters, digits, '-' and '.', besides templates)`, field);
  }
  if (fixed.length > MAX_HOSTNAME) fail(`is longer than ${MAX_HOSTNAME} characters`, field);
}

function validateDns(dns: DNSConfig): void {
  const field = `${C}.dns_config`;
  dns.nameservers.forEach((ns, i) => {
    if (isIP(ns) === 0) fail(`"${ns}" is not an IP address`, `${field}.nameservers[${i}]`);
  });
  dns.search.forEach((s, i) => {
    if (!NO_SPACE.test(s)) fail(`"${s}" is not a search domain`, `${field}.search[${i}]`);
  });
  dns.options.forEach((o, i) => {
    if (!NO_SPACE.test(o)) fail(`"${o}" is not a resolver option (e.g. ndots:2)`, `${field}.options[${i}]`);
  });
}

function validateContainerFields(c: ContainerSpec): void {
  validateHostname(c.hostname);
  c.env.forEach((e, i) => validateTemplate(e.slice(e.indexOf("=") + 1), `${C}.env[${i}]`));
  c.mounts.forEach((m, i) => {
    validateTemplate(m.source, `${C}.mounts[${i}].source`);
    validateTemplate(m.target, `${C}.mounts[${i}].target`);
  });
  c.groups.forEach((g, i) => {
    if (!NO_SPACE.test(g) || g.includes(":")) fail(`"${g}" is not a group name or id`, `${C}.groups[${i}]`);
  });
  for (const [name, caps] of [
    ["capability_add", c.capabilityAdd],
    ["capability_drop", c.capabilityDrop],
  ] as const) {
    caps.forEach((cap, i) => {
      if (!isCapability(cap)) fail(`"${cap}" is not a Linux capability (e.g. NET_ADMIN, or ALL)`, `${C}.${name}[${i}]`);
    });
  }
  for (const key of Object.keys(c.sysctls)) {
    if (!SYSCTL_KEY.test(key)) fail(`"${key}" is not a kernel parameter (e.g. net.core.somaxconn)`, `${C}.sysctls`);
    if (!isNamespaced(key)) {
      fail(
        `"${key}" is not namespaced: a container cannot set it (net.*, fs.mqueue.*, kernel.shm*, ...)`,
        `${C}.sysctls`,
      );
    }
  }
  const seen = new Set<string>();
  c.ulimits.forEach((u, i) => {
    const field = `${C}.ulimits[${i}]`;
    if (!ULIMIT_NAMES.has(u.name)) fail(`"${u.name}" is not a ulimit (e.g. nofile, nproc, core)`, `${field}.name`);
    if (seen.has(u.name)) fail(`"${u.name}" is given twice`, `${field}.name`);
    seen.add(u.name);
    // -1 is "unlimited".
    if (u.soft < -1 || u.hard < -1) fail("cannot be below -1 (unlimited)", field);
    if (u.hard !== -1 && (u.soft === -1 || u.soft > u.hard)) {
      fail(`the soft limit (${u.soft}) is above the hard limit (${u.hard})`, `${field}.soft`);
    }
  });
  c.hosts.forEach((line, i) => {
    const [ip = "", ...names] = line.trim().split(/\s+/);
    const field = `${C}.hosts[${i}]`;
    if (isIP(ip) === 0) fail(`"${line}" does not start with an IP address (form "IP HOSTNAME [ALIAS...]")`, field);
    if (names.length === 0) fail(`"${line}" has no host name (form "IP HOSTNAME [ALIAS...]")`, field);
    const bad = names.find((n) => !HOST_NAME.test(n));
    if (bad !== undefined) fail(`"${bad}" is not a host name`, field);
  });
  if (c.dnsConfig) validateDns(c.dnsConfig);
  if (c.isolation !== "" && c.isolation !== "default") {
    fail(`"${c.isolation}" is not available: Linux daemons have only the default isolation`, `${C}.isolation`);
  }
}

/** Throws InvalidArgumentError, naming the field, for the first bad value. */
export function validateContainerSpecFields(t: TaskSpec | undefined): void {
  if (t?.container) validateContainerFields(t.container);
  const log = t?.logDriver;
  if (log !== undefined) {
    if (log.name === "") fail("a log driver needs a name (e.g. json-file)", `${T}.log_driver.name`);
    if (Object.keys(log.options).some((k) => k === "")) fail("an option has an empty name", `${T}.log_driver.options`);
  }
  const pids = t?.resources?.limits?.pids ?? 0;
  if (!Number.isSafeInteger(pids) || pids < 0) {
    fail(`must be a whole number, 0 (no limit) or more, not ${pids}`, `${T}.resources.limits.pids`);
  }
  if ((t?.resources?.reservations?.pids ?? 0) !== 0) {
    fail("processes cannot be reserved, only limited", `${T}.resources.reservations.pids`);
  }
}
