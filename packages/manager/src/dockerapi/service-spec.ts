// Docker's ServiceSpec JSON <-> Shoal's ServiceSpec, both ways, pure: the service's own fields
// (name, labels, mode) here, its parts in their own files (task-spec.ts, endpoint-spec.ts,
// update-config.ts). Docker fields that Shoal has no place for are kept aside in a reserved label
// (unmapped-fields.ts). Times are nanoseconds in Docker's JSON and Durations in ours
// (spec-values.ts).
import { InvalidArgumentError, RebalanceMode, ServiceSpec, type ServiceMode } from "@shoal/shared";
import { replicatedJobCounts } from "../orchestrator/index.js";
import type { DockerServiceSpec, DockerTaskSpec } from "./docker-types.js";
import { toDockerPort } from "./endpoint-spec.js";
import { endpointModeName, fromDockerEndpointSpec, fromDockerNetworks } from "./network-targets.js";
import { defined, whole } from "./spec-values.js";
import { fromDockerTaskSpec, toDockerTaskSpec, type DockerSpecOptions } from "./task-spec.js";
import { UNMAPPED_LABEL, mergeUnder, unmappedFields, unmappedSpecFields, visibleLabels } from "./unmapped-fields.js";
import { fromDockerUpdateConfig, toDockerUpdateConfig } from "./update-config.js";
import { rebalanceLabels, takeRebalanceLabel } from "./rebalance-label.js";

// fromDockerServiceSpec writes this label: named here too, as before the split into files.
export { UNMAPPED_LABEL };

/** Docker's Mode as Shoal's: one of Replicated (the default), Global, ReplicatedJob, GlobalJob. */
function fromDockerMode(mode: DockerServiceSpec["Mode"]): ServiceMode {
  const set = (["Replicated", "Global", "ReplicatedJob", "GlobalJob"] as const).filter((k) => mode?.[k] != null);
  if (set.length > 1)
    throw new InvalidArgumentError(`only one mode may be set, not ${set.join(" and ")}`, { field: "Mode" });
  if (mode?.Global != null) return { $case: "global", value: {} };
  if (mode?.GlobalJob != null) return { $case: "globalJob", value: {} };
  const job = mode?.ReplicatedJob;
  if (job != null) {
    // Unset (null) is 0: the Control API's defaults are Docker's (see ReplicatedJob in types.proto).
    return {
      $case: "replicatedJob",
      value: {
        maxConcurrent: whole(job.MaxConcurrent ?? 0, "Mode.ReplicatedJob.MaxConcurrent"),
        totalCompletions: whole(job.TotalCompletions ?? 0, "Mode.ReplicatedJob.TotalCompletions"),
      },
    };
  }
  // Without --replicas the CLI sends {"Replicated":{}}: one replica, as Docker does.
  return {
    $case: "replicated",
    value: { replicas: whole(mode?.Replicated?.Replicas ?? 1, "Mode.Replicated.Replicas") },
  };
}

/** Shoal's mode as Docker's; a replicated job's counts with their defaults, as Docker shows them. */
function toDockerMode(spec: ServiceSpec): NonNullable<DockerServiceSpec["Mode"]> {
  const mode = spec.mode;
  switch (mode?.$case) {
    case "global":
      return { Global: {} };
    case "globalJob":
      return { GlobalJob: {} };
    case "replicatedJob": {
      const { total, maxConcurrent } = replicatedJobCounts(spec)!;
      return { ReplicatedJob: { MaxConcurrent: maxConcurrent, TotalCompletions: total } };
    }
    default:
      return { Replicated: { Replicas: mode?.$case === "replicated" ? mode.value.replicas : 1 } };
  }
}

/** A Docker ServiceSpec (already checked against SERVICE_SPEC_SHAPE) as Shoal's. Throws InvalidArgumentError. */
export function fromDockerServiceSpec(spec: DockerServiceSpec): ServiceSpec {
  const t: DockerTaskSpec = spec.TaskTemplate ?? {};
  const labels: Record<string, string> = { ...(spec.Labels ?? {}) };
  delete labels[UNMAPPED_LABEL];
  const rebalance = takeRebalanceLabel(labels);
  const unmapped = unmappedSpecFields(spec);
  if (unmapped !== undefined) labels[UNMAPPED_LABEL] = JSON.stringify(unmapped);
  const out = ServiceSpec.fromPartial({
    annotations: { name: spec.Name ?? "", labels },
    taskTemplate: { ...fromDockerTaskSpec(t), networks: fromDockerNetworks(spec) },
    updateConfig: fromDockerUpdateConfig(spec.UpdateConfig, "UpdateConfig"),
    rollbackConfig: fromDockerUpdateConfig(spec.RollbackConfig, "RollbackConfig"),
    endpoint: fromDockerEndpointSpec(spec.EndpointSpec),
    rebalance: rebalance ?? RebalanceMode.MANUAL,
  });
  out.mode = fromDockerMode(spec.Mode);
  return out;
}

/** Shoal's ServiceSpec as Docker's. */
export function toDockerServiceSpec(spec: ServiceSpec, options: DockerSpecOptions = {}): DockerServiceSpec {
  const insert = options.insertDefaults ?? false;
  const labels = spec.annotations?.labels;
  const unmapped = options.unmapped ?? unmappedFields(labels);
  const ports = spec.endpoint?.ports.length ? spec.endpoint.ports.map(toDockerPort) : undefined;
  // A job has no rollout: no update or rollback config, not even the defaults (the docker CLI
  // would send them back, and a job refuses them).
  const job = spec.mode?.$case === "replicatedJob" || spec.mode?.$case === "globalJob";
  const base: DockerServiceSpec = defined({
    Name: spec.annotations?.name ?? "",
    Labels: { ...visibleLabels(labels), ...rebalanceLabels(spec.rebalance) },
    TaskTemplate: toDockerTaskSpec(spec.taskTemplate, { insertDefaults: insert, unmapped }),
    Mode: toDockerMode(spec),
    UpdateConfig: toDockerUpdateConfig(spec.updateConfig, insert && !job),
    RollbackConfig: toDockerUpdateConfig(spec.rollbackConfig, insert && !job),
    EndpointSpec:
      spec.endpoint || insert ? defined({ Mode: endpointModeName(spec.endpoint?.mode), Ports: ports }) : undefined,
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
