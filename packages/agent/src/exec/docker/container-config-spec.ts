// The rest of Docker's container spec on the container-create body: hostname, groups, tty, stdin,
// read-only root, init, capabilities, sysctls, ulimits, extra hosts, DNS, isolation, the log
// driver and the pids limit. Only set fields are written, so the daemon's defaults hold otherwise.
// The task's templates are expanded before (../template.ts).
import type { ContainerSpec, TaskSpec } from "@shoal/shared";
import type { ContainerCreateOptions, HostConfig } from "dockerode";

/**
 * Docker's ExtraHosts ("HOST:IP") from the spec's hosts lines ("IP HOST [ALIAS...]", as in
 * /etc/hosts): one entry per name, the aliases included.
 */
export function extraHosts(hosts: readonly string[]): string[] {
  return hosts.flatMap((line) => {
    const [ip, ...names] = line.trim().split(/\s+/);
    return names.map((name) => `${name}:${ip}`);
  });
}

/** The host config fields of the container spec (and of the task's log driver and pids limit). */
function hostConfig(c: ContainerSpec, task: TaskSpec | undefined): HostConfig {
  const dns = c.dnsConfig;
  const log = task?.logDriver;
  const pids = task?.resources?.limits?.pids ?? 0;
  return {
    ...(c.groups.length > 0 ? { GroupAdd: [...c.groups] } : {}),
    ...(c.readOnly ? { ReadonlyRootfs: true } : {}),
    ...(c.init !== undefined ? { Init: c.init } : {}),
    ...(c.capabilityAdd.length > 0 ? { CapAdd: [...c.capabilityAdd] } : {}),
    ...(c.capabilityDrop.length > 0 ? { CapDrop: [...c.capabilityDrop] } : {}),
    ...(Object.keys(c.sysctls).length > 0 ? { Sysctls: { ...c.sysctls } } : {}),
    ...(c.ulimits.length > 0 ? { Ulimits: c.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })) } : {}),
    ...(c.hosts.length > 0 ? { ExtraHosts: extraHosts(c.hosts) } : {}),
    ...(dns !== undefined && dns.nameservers.length > 0 ? { Dns: [...dns.nameservers] } : {}),
    ...(dns !== undefined && dns.search.length > 0 ? { DnsSearch: [...dns.search] } : {}),
    ...(dns !== undefined && dns.options.length > 0 ? { DnsOptions: [...dns.options] } : {}),
    ...(c.isolation !== "" ? { Isolation: c.isolation } : {}),
    ...(log !== undefined && log.name !== "" ? { LogConfig: { Type: log.name, Config: { ...log.options } } } : {}),
    ...(pids > 0 ? { PidsLimit: pids } : {}),
  };
}

/**
 * The fields of the container-create body that the rest of the container spec sets: those of the
 * container itself, and `HostConfig`, to merge into the body's own host config.
 */
export function containerSpecConfig(task: TaskSpec | undefined): {
  readonly config: Partial<ContainerCreateOptions>;
  readonly hostConfig: HostConfig;
} {
  const c = task?.container;
  if (c === undefined) return { config: {}, hostConfig: {} };
  return {
    config: {
      ...(c.hostname !== "" ? { Hostname: c.hostname } : {}),
      ...(c.tty ? { Tty: true } : {}),
      ...(c.openStdin ? { OpenStdin: true } : {}),
    },
    hostConfig: hostConfig(c, task),
  };
}
