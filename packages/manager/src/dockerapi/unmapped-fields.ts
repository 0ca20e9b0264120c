// The Docker ServiceSpec fields that Shoal has no place for (Privileges, ...): kept as JSON in one reserved label of the service and merged back on
// the way out, because clients send the whole stored spec back on every update and `docker
// service inspect` shows what was given. The label itself is never shown to Docker clients.
import { isRecord } from "./spec-values.js";

/** The label that keeps the Docker fields Shoal does not model (JSON). Never shown to Docker clients. */
export const UNMAPPED_LABEL = "com.shoal.docker.unmapped";

/** Fields of a Docker ServiceSpec that the translation maps; everything else is kept aside. */
const MAPPED: Record<string, unknown> = {
  Name: true,
  Labels: true,
  Mode: { Replicated: true, Global: true },
  UpdateConfig: true,
  RollbackConfig: true,
  EndpointSpec: { Ports: true, Mode: true },
  Networks: true,
  TaskTemplate: {
    ContainerSpec: {
      Image: true,
      Labels: true,
      Command: true,
      Args: true,
      Env: true,
      Dir: true,
      User: true,
      Healthcheck: true,
      StopSignal: true,
      StopGracePeriod: true,
      Mounts: true,
      Secrets: true,
      Configs: true,
      // task-spec-container.ts
      Hostname: true,
      Groups: true,
      TTY: true,
      OpenStdin: true,
      ReadOnly: true,
      Init: true,
      CapabilityAdd: true,
      CapabilityDrop: true,
      Sysctls: true,
      Ulimits: true,
      Hosts: true,
      DNSConfig: true,
      Isolation: true,
    },
    LogDriver: true,
    Resources: {
      Limits: { NanoCPUs: true, MemoryBytes: true, Pids: true, GenericResources: true },
      Reservations: { NanoCPUs: true, MemoryBytes: true, GenericResources: true },
    },
    RestartPolicy: true,
    Placement: { Constraints: true, Preferences: true, MaxReplicas: true, Platforms: true },
    ForceUpdate: true,
    Networks: true,
  },
};

/** What is left of a Docker ServiceSpec once the fields Shoal maps are taken out; undefined when nothing is. */
export function unmappedSpecFields(spec: unknown): unknown {
  return unmappedPart(spec, MAPPED);
}

/** What is left of `value` once the `mapped` fields are taken out; undefined when nothing is. */
function unmappedPart(value: unknown, mapped: unknown): unknown {
  if (mapped === true || value === null || value === undefined) return undefined;
  if (!isRecord(value) || !isRecord(mapped)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const rest = unmappedPart(v, mapped[k]);
    if (rest !== undefined) out[k] = rest;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Merges `extra` under `base`: base's values win, extra fills in what base lacks. */
export function mergeUnder(base: Record<string, unknown>, extra: unknown): Record<string, unknown> {
  if (!isRecord(extra)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    if (b === undefined) out[k] = v;
    else if (isRecord(b) && isRecord(v)) out[k] = mergeUnder(b, v);
  }
  return out;
}

/** The labels a Docker client sees: the user's, without Shoal's reserved one. */
export function visibleLabels(labels: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out = { ...(labels ?? {}) };
  delete out[UNMAPPED_LABEL];
  return out;
}

/** The Docker fields kept aside for a spec, or undefined. */
export function unmappedFields(
  labels: Readonly<Record<string, string>> | undefined,
): Record<string, unknown> | undefined {
  const text = labels?.[UNMAPPED_LABEL];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
