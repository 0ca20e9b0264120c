// Docker's ServiceSpec JSON <-> Shoal's ServiceSpec, both ways, pure: the service's own fields
// (name, labels, mode) here, its parts in their own files (task-spec.ts, endpoint-spec.ts,
// update-config.ts). Docker fields that Shoal has no place for are kept aside in a reserved label
// (unmapped-fields.ts). Times are nanoseconds in Docker's JSON and Durations in ours
// (spec-values.ts).
import { InvalidArgumentError, ServiceSpec } from "@shoal/shared";
import type { DockerServiceSpec, DockerTaskSpec } from "./docker-types.js";
import { fromDockerPort, toDockerPort } from "./endpoint-spec.js";
import { defined, whole } from "./spec-values.js";
import { fromDockerTaskSpec, toDockerTaskSpec, type DockerSpecOptions } from "./task-spec.js";
import { UNMAPPED_LABEL, mergeUnder, unmappedFields, unmappedSpecFields, visibleLabels } from "./unmapped-fields.js";
import { fromDockerUpdateConfig, toDockerUpdateConfig } from "./update-config.js";

// fromDockerServiceSpec writes this label: named here too, as before the split into files.
export { UNMAPPED_LABEL };

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

/** A Docker ServiceSpec (already checked against SERVICE_SPEC_SHAPE) as Shoal's. Throws InvalidArgumentError. */
export function fromDockerServiceSpec(spec: DockerServiceSpec): ServiceSpec {
  refuseUnsupported(spec);
  const t: DockerTaskSpec = spec.TaskTemplate ?? {};
  const labels: Record<string, string> = { ...(spec.Labels ?? {}) };
  delete labels[UNMAPPED_LABEL];
  const unmapped = unmappedSpecFields(spec);
  if (unmapped !== undefined) labels[UNMAPPED_LABEL] = JSON.stringify(unmapped);
  const replicated = spec.Mode?.Replicated;
  const out = ServiceSpec.fromPartial({
    annotations: { name: spec.Name ?? "", labels },
    taskTemplate: fromDockerTaskSpec(t),
    updateConfig: fromDockerUpdateConfig(spec.UpdateConfig, "UpdateConfig"),
    rollbackConfig: fromDockerUpdateConfig(spec.RollbackConfig, "RollbackConfig"),
    endpoint: spec.EndpointSpec?.Ports ? { ports: spec.EndpointSpec.Ports.map(fromDockerPort) } : undefined,
  });
  // Without --replicas the CLI sends {"Replicated":{}}: one replica, as Docker does.
  out.mode =
    spec.Mode?.Global != null
      ? { $case: "global", value: {} }
      : { $case: "replicated", value: { replicas: whole(replicated?.Replicas ?? 1, "Mode.Replicated.Replicas") } };
  return out;
}

/** Shoal's ServiceSpec as Docker's. */
export function toDockerServiceSpec(spec: ServiceSpec, options: DockerSpecOptions = {}): DockerServiceSpec {
  const insert = options.insertDefaults ?? false;
  const labels = spec.annotations?.labels;
  const unmapped = options.unmapped ?? unmappedFields(labels);
  const ports = spec.endpoint?.ports.map(toDockerPort);
  const base: DockerServiceSpec = defined({
    Name: spec.annotations?.name ?? "",
    Labels: visibleLabels(labels),
    TaskTemplate: toDockerTaskSpec(spec.taskTemplate, { insertDefaults: insert, unmapped }),
    Mode:
      spec.mode?.$case === "global"
        ? { Global: {} }
        : { Replicated: { Replicas: spec.mode?.$case === "replicated" ? spec.mode.value.replicas : 1 } },
    UpdateConfig: toDockerUpdateConfig(spec.updateConfig, insert),
    RollbackConfig: toDockerUpdateConfig(spec.rollbackConfig, insert),
    EndpointSpec: ports || insert ? defined({ Mode: insert ? "vip" : undefined, Ports: ports }) : undefined,
  });
  const { TaskTemplate: _ignored, ...rest } = unmapped ?? {};
  return mergeUnder(base, rest) as DockerServiceSpec;
}

/**
 * A spec from a Docker update, with the fields Docker's spec has no place for (a job's schedule)
 * taken from the service's current spec: the docker CLI sends back only what it knows, and an
 * update through it must not drop them. (Validation still refuses a schedule on a service whose
 * mode the update makes other than a job.)
 */
export function withShoalOnlyFields(spec: ServiceSpec, current: ServiceSpec | undefined): ServiceSpec {
  return { ...spec, schedule: current?.schedule };
}
