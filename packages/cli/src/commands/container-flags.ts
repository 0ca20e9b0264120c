// The flags of the rest of the container spec, named as `docker service create` and `update` name
// them: --hostname, --group, --tty, --read-only, --init, --cap-add/--cap-drop, --sysctl, --ulimit,
// --host, --dns*, --isolation, --log-driver/--log-opt, --limit-pids. On create, list flags give
// the list; on update, -add/-rm flags edit it, as Docker's. Parsing checks each value's form (an
// error names the flag); the Control API checks the rest (known capabilities, valid IPs, ...).
import type { Command } from "commander";
import { ContainerSpec, DNSConfig, InvalidArgumentError, type TaskSpec, type Ulimit } from "@shoal/shared";

/** Repeated option values; unset when the flag is not given (so an update changes nothing). */
const many = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export interface ContainerFlags {
  hostname?: string;
  tty?: boolean;
  readOnly?: boolean;
  init?: boolean;
  isolation?: string;
  logDriver?: string;
  logOpt?: string[];
  limitPids?: string;
  capAdd?: string[];
  capDrop?: string[];
  // create
  group?: string[];
  sysctl?: string[];
  ulimit?: string[];
  host?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  // update
  groupAdd?: string[];
  groupRm?: string[];
  sysctlAdd?: string[];
  sysctlRm?: string[];
  ulimitAdd?: string[];
  ulimitRm?: string[];
  hostAdd?: string[];
  hostRm?: string[];
  dnsAdd?: string[];
  dnsRm?: string[];
  dnsSearchAdd?: string[];
  dnsSearchRm?: string[];
  dnsOptionAdd?: string[];
  dnsOptionRm?: string[];
}

/** A list edit: `set` replaces the list (create); otherwise `rm` goes and `add` comes last. */
interface ListEdit<T> {
  readonly set?: readonly T[];
  readonly add: readonly T[];
  readonly rm: readonly string[];
}

/** What the container flags change; a field left out is kept as it is. */
export interface ContainerEdit {
  readonly hostname?: string;
  readonly tty?: boolean;
  readonly readOnly?: boolean;
  readonly init?: boolean;
  readonly isolation?: string;
  readonly logDriver?: string;
  readonly logOpt?: Readonly<Record<string, string>>;
  readonly pids?: number;
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly groups: ListEdit<string>;
  readonly sysctls: ListEdit<[string, string]>;
  readonly ulimits: ListEdit<Ulimit>;
  readonly hosts: ListEdit<string>;
  readonly dns: ListEdit<string>;
  readonly dnsSearch: ListEdit<string>;
  readonly dnsOption: ListEdit<string>;
}

/** Registers the flags on `service create` or `service update`. */
export function addContainerOptions(cmd: Command, update: boolean): Command {
  cmd
    .option("--hostname <name>", "container host name; may use templates, e.g. {{.Node.Hostname}}-{{.Task.Slot}}")
    .option("-t, --tty", "allocate a pseudo-TTY")
    .option("--read-only", "mount the container's root file system read-only")
    .option("--init", "run an init inside the container that forwards signals and reaps processes")
    .option("--isolation <mode>", "isolation technology (Linux: default)")
    .option("--log-driver <name>", "logging driver of the containers (e.g. json-file, local, none)")
    .option("--log-opt <k=v>", "logging driver option (repeatable)", many)
    .option("--limit-pids <n>", "maximum number of processes per task (0: no limit)")
    .option("--cap-add <cap>", "add a Linux capability (repeatable)", many)
    .option("--cap-drop <cap>", "drop a Linux capability (repeatable)", many);
  if (update) {
    cmd
      .option("--no-tty", "no pseudo-TTY")
      .option("--no-read-only", "a writable root file system")
      .option("--no-init", "no init inside the container")
      .option("--group-add <group>", "add a supplementary group (repeatable)", many)
      .option("--group-rm <group>", "remove a supplementary group (repeatable)", many)
      .option("--sysctl-add <k=v>", "add or change a namespaced kernel parameter (repeatable)", many)
      .option("--sysctl-rm <k>", "remove a kernel parameter (repeatable)", many)
      .option("--ulimit-add <name=soft[:hard]>", "add or change a ulimit (repeatable)", many)
      .option("--ulimit-rm <name>", "remove a ulimit (repeatable)", many)
      .option("--host-add <host:ip>", "add a custom host-to-IP mapping (repeatable)", many)
      .option("--host-rm <host[:ip]>", "remove a custom host-to-IP mapping (repeatable)", many)
      .option("--dns-add <ip>", "add a DNS server (repeatable)", many)
      .option("--dns-rm <ip>", "remove a DNS server (repeatable)", many)
      .option("--dns-search-add <domain>", "add a DNS search domain (repeatable)", many)
      .option("--dns-search-rm <domain>", "remove a DNS search domain (repeatable)", many)
      .option("--dns-option-add <opt>", "add a DNS option, e.g. ndots:2 (repeatable)", many)
      .option("--dns-option-rm <opt>", "remove a DNS option (repeatable)", many);
    return cmd;
  }
  return cmd
    .option("--group <group>", "supplementary group of the container's user (repeatable)", many)
    .option("--sysctl <k=v>", "namespaced kernel parameter (repeatable)", many)
    .option("--ulimit <name=soft[:hard]>", "ulimit, e.g. nofile=1024:2048 (repeatable)", many)
    .option("--host <host:ip>", "custom host-to-IP mapping (repeatable)", many)
    .option("--dns <ip>", "DNS server (repeatable)", many)
    .option("--dns-search <domain>", "DNS search domain (repeatable)", many)
    .option("--dns-option <opt>", "DNS option, e.g. ndots:2 (repeatable)", many);
}

/** "K=V" entries as a map; a key is needed. */
function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === "") throw new InvalidArgumentError(`"${v}" has no key`, { field: flag });
    out[key] = eq === -1 ? "" : v.slice(eq + 1);
  }
  return out;
}

/** "nofile=1024:2048", "nofile=1024" (soft = hard), "core=unlimited" (-1). */
export function parseUlimit(value: string, flag: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+|unlimited)(?::(-?\d+|unlimited))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`"${value}" is not NAME=SOFT[:HARD], e.g. nofile=1024:2048`, { field: flag });
  const n = (s: string): number => (s === "unlimited" ? -1 : Number(s));
  const soft = n(m[2]!);
  return { name: m[1]!, soft, hard: m[3] === undefined ? soft : n(m[3]) };
}

/** Docker's "HOST:IP" (or "HOST=IP") as the spec's hosts line "IP HOST". */
export function parseHost(value: string, flag: string): string {
  const m = /^([^:=\s]+)[:=](\S+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`"${value}" is not HOST:IP`, { field: flag });
  return `${m[2]} ${m[1]}`;
}

function pidsLimit(value: string): number {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError(`"${value}" is not a whole number`, { field: "--limit-pids" });
  return Number(value);
}

function list<T>(
  set: string[] | undefined,
  add: string[] | undefined,
  rm: string[] | undefined,
  parse: (v: string) => T,
): ListEdit<T> {
  return { ...(set !== undefined ? { set: set.map(parse) } : {}), add: (add ?? []).map(parse), rm: rm ?? [] };
}

const same = (v: string): string => v;

/** As the docker CLI sends capabilities: upper case, with the CAP_ prefix; ALL as it is. */
export function normalizeCapability(cap: string): string {
  const upper = cap.trim().toUpperCase();
  return upper === "ALL" || upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/** The edit the flags make; undefined when no container flag is given. */
export function parseContainerFlags(f: ContainerFlags): ContainerEdit | undefined {
  const kv = (flag: string) => (v: string) => Object.entries(keyValues([v], flag))[0]!;
  const edit: ContainerEdit = {
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    ...(f.tty !== undefined ? { tty: f.tty } : {}),
    ...(f.readOnly !== undefined ? { readOnly: f.readOnly } : {}),
    ...(f.init !== undefined ? { init: f.init } : {}),
    ...(f.isolation !== undefined ? { isolation: f.isolation } : {}),
    ...(f.logDriver !== undefined ? { logDriver: f.logDriver } : {}),
    ...(f.logOpt !== undefined ? { logOpt: keyValues(f.logOpt, "--log-opt") } : {}),
    ...(f.limitPids !== undefined ? { pids: pidsLimit(f.limitPids) } : {}),
    capAdd: (f.capAdd ?? []).map(normalizeCapability),
    capDrop: (f.capDrop ?? []).map(normalizeCapability),
    groups: list(f.group, f.groupAdd, f.groupRm, same),
    sysctls: list(f.sysctl, f.sysctlAdd, f.sysctlRm, kv(f.sysctl ? "--sysctl" : "--sysctl-add")),
    ulimits: list(f.ulimit, f.ulimitAdd, f.ulimitRm, (v) => parseUlimit(v, f.ulimit ? "--ulimit" : "--ulimit-add")),
    hosts: list(f.host, f.hostAdd, f.hostRm, (v) => parseHost(v, f.host ? "--host" : "--host-add")),
    dns: list(f.dns, f.dnsAdd, f.dnsRm, same),
    dnsSearch: list(f.dnsSearch, f.dnsSearchAdd, f.dnsSearchRm, same),
    dnsOption: list(f.dnsOption, f.dnsOptionAdd, f.dnsOptionRm, same),
  };
  return isEmpty(edit) ? undefined : edit;
}

function isEmpty(e: ContainerEdit): boolean {
  const lists = [e.groups, e.sysctls, e.ulimits, e.hosts, e.dns, e.dnsSearch, e.dnsOption];
  const values = [e.hostname, e.tty, e.readOnly, e.init, e.isolation, e.logDriver, e.logOpt, e.pids];
  return (
    lists.every((l) => l.set === undefined && l.add.length === 0 && l.rm.length === 0) &&
    values.every((v) => v === undefined) &&
    e.capAdd.length === 0 &&
    e.capDrop.length === 0
  );
}

/** `current` with the edit; `key` says which entry an item or a removal names. */
function editList<T>(
  current: readonly T[],
  e: ListEdit<T>,
  key: (item: T) => string,
  removes = (k: string, item: T) => key(item) === k,
): T[] {
  const base = e.set ?? current.filter((item) => !e.rm.some((k) => removes(k, item)));
  const added = new Set(e.add.map(key));
  return [...base.filter((item) => !added.has(key(item))), ...e.add];
}

/** A hosts line "IP HOST..." is removed by "HOST" or "HOST:IP" (docker's --host-rm). */
function removesHost(rm: string, line: string): boolean {
  const [ip, ...names] = line.split(/\s+/);
  const m = /^([^:=]+)(?:[:=](.+))?$/.exec(rm);
  return m !== null && names.includes(m[1]!) && (m[2] === undefined || m[2] === ip);
}

/** The container spec with the edit applied (changed in place: `container` is the caller's copy). */
function applyToContainer(c: ContainerSpec, e: ContainerEdit): void {
  if (e.hostname !== undefined) c.hostname = e.hostname;
  if (e.tty !== undefined) c.tty = e.tty;
  if (e.readOnly !== undefined) c.readOnly = e.readOnly;
  if (e.init !== undefined) c.init = e.init;
  if (e.isolation !== undefined) c.isolation = e.isolation;
  // As docker service update: adding a capability takes it off the drop list, and the other way.
  c.capabilityAdd = [
    ...c.capabilityAdd.filter((x) => !e.capDrop.includes(x)),
    ...e.capAdd.filter((x) => !c.capabilityAdd.includes(x)),
  ];
  c.capabilityDrop = [
    ...c.capabilityDrop.filter((x) => !e.capAdd.includes(x)),
    ...e.capDrop.filter((x) => !c.capabilityDrop.includes(x)),
  ];
  c.groups = editList(c.groups, e.groups, same);
  c.sysctls = Object.fromEntries(editList(Object.entries(c.sysctls), e.sysctls, ([k]) => k));
  c.ulimits = editList(c.ulimits, e.ulimits, (u) => u.name);
  c.hosts = editList(c.hosts, e.hosts, same, removesHost);
  const dns = DNSConfig.fromPartial(c.dnsConfig ?? {});
  dns.nameservers = editList(dns.nameservers, e.dns, same);
  dns.search = editList(dns.search, e.dnsSearch, same);
  dns.options = editList(dns.options, e.dnsOption, same);
  const anyDns = dns.nameservers.length + dns.search.length + dns.options.length > 0;
  c.dnsConfig = anyDns || c.dnsConfig !== undefined ? dns : undefined;
}

/** The template with the edit applied; the input is not changed. */
export function applyContainerEdit(template: TaskSpec, e: ContainerEdit): TaskSpec {
  const out: TaskSpec = { ...template, container: ContainerSpec.fromPartial(template.container ?? {}) };
  applyToContainer(out.container!, e);
  if (e.logDriver !== undefined) out.logDriver = { name: e.logDriver, options: { ...e.logOpt } };
  else if (e.logOpt !== undefined) {
    if (out.logDriver === undefined) {
      throw new InvalidArgumentError("needs a log driver (--log-driver)", { field: "--log-opt" });
    }
    out.logDriver = { ...out.logDriver, options: { ...out.logDriver.options, ...e.logOpt } };
  }
  if (e.pids !== undefined) {
    const r = out.resources;
    const limits = r?.limits ?? { nanoCpus: 0, memoryBytes: 0, pids: 0, generic: [] };
    out.resources = { limits: { ...limits, pids: e.pids }, reservations: r?.reservations };
  }
  return out;
}
