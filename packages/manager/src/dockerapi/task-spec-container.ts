// The rest of Docker's ContainerSpec (Hostname, Groups, TTY, OpenStdin, ReadOnly, Init,
// CapabilityAdd/Drop, Sysctls, Ulimits, Hosts, DNSConfig, Isolation), TaskTemplate.LogDriver and
// Resources.Limits.Pids, both ways; and the TaskTemplate fields nothing on a Shoal node can
// honour (Privileges' CredentialSpec and SELinuxContext, a Runtime other than containers,
// PluginSpec, NetworkAttachmentSpec), refused with the field named. The values themselves are
// checked by the Control API (validate-container-spec.ts); here only their types and whole numbers.
import { InvalidArgumentError, type ContainerSpec, type DeepPartial, type Driver, type TaskSpec } from "@shoal/shared";
import type { DockerContainerSpec, DockerTaskSpec, Labels } from "./docker-types.js";
import { defined, isRecord, nonEmpty } from "./spec-values.js";

const CS = "TaskTemplate.ContainerSpec";

/** The fields of Docker's ContainerSpec that this file maps. */
interface DockerContainerRest {
  Hostname?: string;
  Groups?: string[] | null;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Init?: boolean | null;
  CapabilityAdd?: string[] | null;
  CapabilityDrop?: string[] | null;
  Sysctls?: Labels | null;
  Ulimits?: ({ Name?: string; Soft?: number; Hard?: number } | null)[] | null;
  Hosts?: string[] | null;
  DNSConfig?: { Nameservers?: string[] | null; Search?: string[] | null; Options?: string[] | null } | null;
  Isolation?: string;
}

interface DockerLogDriver {
  Name?: string;
  Options?: Labels | null;
}

/** A whole number, -1 (unlimited) allowed. */
function limit(value: number | undefined, field: string): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < -1) {
    throw new InvalidArgumentError(`must be a whole number, or -1 for unlimited, not ${n}`, { field });
  }
  return n;
}

/** Whether a Docker struct holds anything but zero values. */
function isSet(value: unknown): boolean {
  if (isRecord(value)) return Object.values(value).some(isSet);
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== "" && value !== false && value !== 0;
}

/** Refuses the TaskTemplate fields that no Shoal node can honour. Throws InvalidArgumentError. */
export function refuseUnhonoured(t: DockerTaskSpec): void {
  const privileges = t.ContainerSpec?.["Privileges"];
  for (const key of ["CredentialSpec", "SELinuxContext"]) {
    if (isRecord(privileges) && isSet(privileges[key])) {
      throw new InvalidArgumentError("is not supported by Shoal (Linux daemons, no SELinux labels per service)", {
        field: `${CS}.Privileges.${key}`,
      });
    }
  }
  // Newer than API 1.41 (newer CLIs send `"NoNewPrivileges": false`): only their defaults pass.
  if (isRecord(privileges)) {
    const modes: [string, unknown][] = [
      ["Seccomp", isRecord(privileges["Seccomp"]) ? privileges["Seccomp"]["Mode"] : undefined],
      ["AppArmor", isRecord(privileges["AppArmor"]) ? privileges["AppArmor"]["Mode"] : undefined],
    ];
    for (const [key, mode] of modes) {
      if (mode !== undefined && mode !== null && mode !== "" && mode !== "default") {
        throw new InvalidArgumentError(`mode "${String(mode)}" is not supported by Shoal: only the default profile`, {
          field: `${CS}.Privileges.${key}.Mode`,
        });
      }
    }
    if (privileges["NoNewPrivileges"] === true) {
      throw new InvalidArgumentError("is not supported by Shoal", { field: `${CS}.Privileges.NoNewPrivileges` });
    }
  }
  const runtime = t["Runtime"];
  if (runtime !== undefined && runtime !== "" && runtime !== "container") {
    throw new InvalidArgumentError(`"${String(runtime)}" is not supported: Shoal runs containers only`, {
      field: "TaskTemplate.Runtime",
    });
  }
  for (const key of ["PluginSpec", "NetworkAttachmentSpec"]) {
    if (isSet(t[key])) {
      throw new InvalidArgumentError("is not supported: Shoal runs containers only", { field: `TaskTemplate.${key}` });
    }
  }
  const reservations = t.Resources?.Reservations;
  if (isRecord(reservations) && isSet(reservations["Pids"])) {
    throw new InvalidArgumentError("processes cannot be reserved, only limited", {
      field: "TaskTemplate.Resources.Reservations.Pids",
    });
  }
}

/** The rest of Docker's ContainerSpec as Shoal's fields, to spread into the container spec. */
export function fromDockerContainerRest(spec: DockerContainerSpec): DeepPartial<ContainerSpec> {
  const c = spec as DockerContainerRest;
  const dns = c.DNSConfig;
  return {
    hostname: c.Hostname ?? "",
    groups: c.Groups ?? [],
    tty: c.TTY ?? false,
    openStdin: c.OpenStdin ?? false,
    readOnly: c.ReadOnly ?? false,
    ...(c.Init !== undefined && c.Init !== null ? { init: c.Init } : {}),
    capabilityAdd: c.CapabilityAdd ?? [],
    capabilityDrop: c.CapabilityDrop ?? [],
    sysctls: c.Sysctls ?? {},
    ulimits: (c.Ulimits ?? []).map((u, i) => ({
      name: u?.Name ?? "",
      soft: limit(u?.Soft, `${CS}.Ulimits[${i}].Soft`),
      hard: limit(u?.Hard, `${CS}.Ulimits[${i}].Hard`),
    })),
    hosts: c.Hosts ?? [],
    dnsConfig: dns
      ? { nameservers: dns.Nameservers ?? [], search: dns.Search ?? [], options: dns.Options ?? [] }
      : undefined,
    isolation: c.Isolation ?? "",
  };
}

/** TaskTemplate.LogDriver as Shoal's; undefined when unset. */
export function fromDockerLogDriver(t: DockerTaskSpec): Driver | undefined {
  const log = t["LogDriver"] as DockerLogDriver | null | undefined;
  if (!log) return undefined;
  return { name: log.Name ?? "", options: { ...(log.Options ?? {}) } };
}

/** Shoal's fields as the rest of Docker's ContainerSpec, empty ones omitted as Docker omits them. */
export function toDockerContainerRest(c: ContainerSpec | undefined): DockerContainerRest {
  if (c === undefined) return {};
  const dns = c.dnsConfig;
  return defined<DockerContainerRest>({
    Hostname: c.hostname || undefined,
    Groups: nonEmpty(c.groups),
    TTY: c.tty || undefined,
    OpenStdin: c.openStdin || undefined,
    ReadOnly: c.readOnly || undefined,
    Init: c.init,
    CapabilityAdd: nonEmpty(c.capabilityAdd),
    CapabilityDrop: nonEmpty(c.capabilityDrop),
    Sysctls: Object.keys(c.sysctls).length > 0 ? { ...c.sysctls } : undefined,
    Ulimits: nonEmpty(c.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))),
    Hosts: nonEmpty(c.hosts),
    DNSConfig: dns
      ? defined({
          Nameservers: nonEmpty(dns.nameservers),
          Search: nonEmpty(dns.search),
          Options: nonEmpty(dns.options),
        })
      : undefined,
    Isolation: c.isolation || undefined,
  });
}

/** Shoal's log driver as TaskTemplate.LogDriver; undefined when unset. */
export function toDockerLogDriver(t: TaskSpec | undefined): DockerLogDriver | undefined {
  const log = t?.logDriver;
  if (log === undefined) return undefined;
  return defined({ Name: log.name, Options: Object.keys(log.options).length > 0 ? { ...log.options } : undefined });
}
