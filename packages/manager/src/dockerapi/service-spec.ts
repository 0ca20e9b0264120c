// Docker's ServiceSpec JSON <-> Shoal's ServiceSpec, both ways, pure. Docker fields that Shoal has
// no place for (Networks, DNSConfig, Init, EndpointSpec.Mode, ...) are kept as JSON in one
// reserved label and merged back on the way out: clients send the whole stored spec back on
// every update, and `docker service inspect` shows what was given. Times are nanoseconds in
// Docker's JSON and Durations in ours.
//
// This file: Docker -> Shoal; docker-service-spec.ts: Shoal -> Docker; spec-common.ts: both.
import {
  InvalidArgumentError,
  ServiceSpec,
  type HealthConfig,
  type PortConfig,
  type Resources,
  type UpdateConfig,
} from "@shoal/shared";
import type {
  DockerHealthConfig,
  DockerPortConfig,
  DockerResources,
  DockerServiceSpec,
  DockerTaskSpec,
  DockerUpdateConfig,
} from "./docker-types.js";
import {
  CONDITIONS,
  FAILURE_ACTIONS,
  ORDERS,
  PROTOCOLS,
  PUBLISH_MODES,
  UNMAPPED_LABEL,
  duration,
  isRecord,
  pick,
  whole,
} from "./spec-common.js";

export { UNMAPPED_LABEL } from "./spec-common.js";
export {
  toDockerPort,
  toDockerServiceSpec,
  toDockerTaskSpec,
  unmappedFields,
  visibleLabels,
  type DockerSpecOptions,
} from "./docker-service-spec.js";

// ---- Docker -> Shoal ----------------------------------------------------------------------

function resources(r: DockerResources | null | undefined, field: string): Resources | undefined {
  if (!r) return undefined;
  return {
    nanoCpus: whole(r.NanoCPUs, `${field}.NanoCPUs`),
    memoryBytes: whole(r.MemoryBytes, `${field}.MemoryBytes`),
  };
}

function health(h: DockerHealthConfig | null | undefined): HealthConfig | undefined {
  if (!h) return undefined;
  const f = "TaskTemplate.ContainerSpec.Healthcheck";
  return {
    test: h.Test ?? [],
    interval: duration(h.Interval, `${f}.Interval`),
    timeout: duration(h.Timeout, `${f}.Timeout`),
    startPeriod: duration(h.StartPeriod, `${f}.StartPeriod`),
    retries: whole(h.Retries, `${f}.Retries`),
  };
}

function updateConfig(u: DockerUpdateConfig | null | undefined, field: string): UpdateConfig | undefined {
  if (!u) return undefined;
  const ratio = u.MaxFailureRatio ?? 0;
  if (ratio < 0 || ratio > 1) {
    throw new InvalidArgumentError(`must be from 0 to 1, not ${ratio}`, { field: `${field}.MaxFailureRatio` });
  }
  return {
    parallelism: whole(u.Parallelism, `${field}.Parallelism`),
    delay: duration(u.Delay, `${field}.Delay`),
    failureAction: pick(FAILURE_ACTIONS, u.FailureAction || "pause", `${field}.FailureAction`),
    monitor: duration(u.Monitor, `${field}.Monitor`),
    maxFailureRatio: ratio,
    order: pick(ORDERS, u.Order || "stop-first", `${field}.Order`),
  };
}

function port(p: DockerPortConfig, i: number): PortConfig {
  const field = `EndpointSpec.Ports[${i}]`;
  const target = whole(p.TargetPort, `${field}.TargetPort`);
  const published = whole(p.PublishedPort, `${field}.PublishedPort`);
  if (target < 1 || target > 65535) {
    throw new InvalidArgumentError(`must be a port from 1 to 65535, not ${target}`, { field: `${field}.TargetPort` });
  }
  if (published > 65535) {
    throw new InvalidArgumentError(`must be a port up to 65535, not ${published}`, {
      field: `${field}.PublishedPort`,
    });
  }
  return {
    name: p.Name ?? "",
    protocol: pick(PROTOCOLS, p.Protocol || "tcp", `${field}.Protocol`),
    targetPort: target,
    publishedPort: published,
    publishMode: pick(PUBLISH_MODES, p.PublishMode || "ingress", `${field}.PublishMode`),
  };
}

/** Docker fields Shoal cannot honour: refused when set rather than silently ignored. */
function refuseUnsupported(spec: DockerServiceSpec): void {
  const container = spec.TaskTemplate?.ContainerSpec ?? {};
  for (const key of ["Mounts", "Secrets", "Configs"] as const) {
    const v = container[key];
    if (Array.isArray(v) && v.length > 0) {
      throw new InvalidArgumentError("is not supported by Shoal", { field: `TaskTemplate.ContainerSpec.${key}` });
    }
  }
  for (const key of ["ReplicatedJob", "GlobalJob"] as const) {
    if (spec.Mode?.[key] != null) {
      throw new InvalidArgumentError("job services are not supported by Shoal", { field: `Mode.${key}` });
    }
  }
}

/** Fields of a Docker ServiceSpec that the translation below maps; everything else is kept aside. */
const MAPPED: Record<string, unknown> = {
  Name: true,
  Labels: true,
  Mode: { Replicated: true, Global: true },
  UpdateConfig: true,
  RollbackConfig: true,
  EndpointSpec: { Ports: true },
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
    },
    Resources: { Limits: { NanoCPUs: true, MemoryBytes: true }, Reservations: { NanoCPUs: true, MemoryBytes: true } },
    RestartPolicy: true,
    Placement: { Constraints: true, Preferences: true, MaxReplicas: true },
    ForceUpdate: true,
  },
};

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

/** A Docker ServiceSpec (already checked against SERVICE_SPEC_SHAPE) as Shoal's. Throws InvalidArgumentError. */
export function fromDockerServiceSpec(spec: DockerServiceSpec): ServiceSpec {
  refuseUnsupported(spec);
  const t: DockerTaskSpec = spec.TaskTemplate ?? {};
  const c = t.ContainerSpec ?? {};
  const labels: Record<string, string> = { ...(spec.Labels ?? {}) };
  delete labels[UNMAPPED_LABEL];
  const unmapped = unmappedPart(spec, MAPPED);
  if (unmapped !== undefined) labels[UNMAPPED_LABEL] = JSON.stringify(unmapped);
  const restart = t.RestartPolicy;
  const placement = t.Placement;
  const replicated = spec.Mode?.Replicated;
  const out = ServiceSpec.fromPartial({
    annotations: { name: spec.Name ?? "", labels },
    taskTemplate: {
      container: {
        image: c.Image ?? "",
        command: c.Command ?? [],
        args: c.Args ?? [],
        env: c.Env ?? [],
        labels: c.Labels ?? {},
        dir: c.Dir ?? "",
        user: c.User ?? "",
        healthcheck: health(c.Healthcheck),
        stopSignal: c.StopSignal ?? "",
        stopGracePeriod: duration(c.StopGracePeriod, "TaskTemplate.ContainerSpec.StopGracePeriod"),
      },
      resources: t.Resources
        ? {
            limits: resources(t.Resources.Limits, "TaskTemplate.Resources.Limits"),
            reservations: resources(t.Resources.Reservations, "TaskTemplate.Resources.Reservations"),
          }
        : undefined,
      restartPolicy: restart
        ? {
            condition: pick(CONDITIONS, restart.Condition || "any", "TaskTemplate.RestartPolicy.Condition"),
            delay: duration(restart.Delay, "TaskTemplate.RestartPolicy.Delay"),
            maxAttempts: whole(restart.MaxAttempts, "TaskTemplate.RestartPolicy.MaxAttempts"),
            window: duration(restart.Window, "TaskTemplate.RestartPolicy.Window"),
          }
        : undefined,
      placement: placement
        ? {
            constraints: placement.Constraints ?? [],
            preferences: (placement.Preferences ?? []).map((p) => ({
              preference: { $case: "spread" as const, value: { spreadDescriptor: p.Spread?.SpreadDescriptor ?? "" } },
            })),
            maxReplicasPerNode: whole(placement.MaxReplicas, "TaskTemplate.Placement.MaxReplicas"),
          }
        : undefined,
      forceUpdate: whole(t.ForceUpdate, "TaskTemplate.ForceUpdate"),
    },
    updateConfig: updateConfig(spec.UpdateConfig, "UpdateConfig"),
    rollbackConfig: updateConfig(spec.RollbackConfig, "RollbackConfig"),
    endpoint: spec.EndpointSpec?.Ports ? { ports: spec.EndpointSpec.Ports.map(port) } : undefined,
  });
  // Without --replicas the CLI sends {"Replicated":{}}: one replica, as Docker does.
  out.mode =
    spec.Mode?.Global != null
      ? { $case: "global", value: {} }
      : { $case: "replicated", value: { replicas: whole(replicated?.Replicas ?? 1, "Mode.Replicated.Replicas") } };
  return out;
}
