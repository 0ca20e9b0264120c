// `service inspect --pretty`: the rest of the container spec, the log driver and the pids limit,
// under ContainerSpec as `docker service inspect --pretty` shows them; only what is set.
import type { TaskSpec } from "@shoal/shared";

export function containerSpecLines(t: TaskSpec | undefined): string[] {
  const c = t?.container;
  if (c === undefined) return [];
  const lines: string[] = [];
  const add = (label: string, values: readonly string[]): void => {
    if (values.length > 0) lines.push(` ${label}:\t${values.join(", ")}`);
  };
  add("Hostname", c.hostname === "" ? [] : [c.hostname]);
  add("Groups", c.groups);
  if (c.tty) lines.push(" TTY:\t\ttrue");
  if (c.openStdin) lines.push(" OpenStdin:\ttrue");
  if (c.readOnly) lines.push(" Read Only:\ttrue");
  if (c.init !== undefined) lines.push(` Init:\t\t${c.init}`);
  add("Capability Add", c.capabilityAdd);
  add("Capability Drop", c.capabilityDrop);
  add(
    "Sysctls",
    Object.entries(c.sysctls).map(([k, v]) => `${k}=${v}`),
  );
  add(
    "Ulimits",
    c.ulimits.map((u) => `${u.name}=${u.soft}:${u.hard}`),
  );
  add("Hosts", c.hosts);
  add("DNS", c.dnsConfig?.nameservers ?? []);
  add("DNS Search", c.dnsConfig?.search ?? []);
  add("DNS Options", c.dnsConfig?.options ?? []);
  add("Isolation", c.isolation === "" ? [] : [c.isolation]);
  const pids = t?.resources?.limits?.pids ?? 0;
  if (pids > 0) lines.push(` PIDs Limit:\t${pids}`);
  const log = t?.logDriver;
  if (log !== undefined) {
    lines.push("Log Driver:", ` Name:\t\t${log.name}`);
    for (const [k, v] of Object.entries(log.options)) lines.push(`  ${k}:\t${v}`);
  }
  return lines;
}
