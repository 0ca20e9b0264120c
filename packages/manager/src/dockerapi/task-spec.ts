// A task's spec (a service's TaskTemplate, or a task's Spec): Docker's TaskSpec <-> Shoal's,
// the container spec, resources, restart policy and placement. Checked on the way in; on the way
// out, Swarm's defaults when asked for them and the unmapped Docker fields merged back.
import {
  RestartCondition,
  type DeepPartial,
  type HealthConfig,
  type Resources,
  type ServiceSpec,
  type TaskSpec,
} from "@shoal/shared";
import type { DockerHealthConfig, DockerResources, DockerTaskSpec } from "./docker-types.js";
import { NS_PER_S, defined, duration, invert, isRecord, nanos, nonEmpty, nonZero, pick, whole } from "./spec-values.js";
import {
  fromDockerContainerRest,
  fromDockerLogDriver,
  refuseUnhonoured,
  toDockerContainerRest,
  toDockerLogDriver,
} from "./task-spec-container.js";
import { fromDockerMounts, toDockerMounts } from "./task-spec-mounts.js";
import { mergeUnder } from "./unmapped-fields.js";
import { toDockerNetworks } from "./network-targets.js";
import { addGenericAndPlatforms, withGenericAndPlatforms } from "./task-spec-generic.js";
import { fromDockerSecretRefs, toDockerSecretRefs } from "./task-spec-secrets.js";

const DEFAULT_STOP_GRACE_NS = 10 * NS_PER_S;
const DEFAULT_RESTART_DELAY_NS = 5 * NS_PER_S;

const CONDITIONS = {
  any: RestartCondition.ANY,
  "on-failure": RestartCondition.ON_FAILURE,
  none: RestartCondition.NONE,
} as const;
const CONDITION_NAMES = invert(CONDITIONS);

export interface DockerSpecOptions {
  /** As `insertDefaults=true`: fill in the defaults Shoal applies to unset fields. */
  readonly insertDefaults?: boolean;
  /** The Docker fields kept aside for this spec (from the service's labels), merged back in. */
  readonly unmapped?: Record<string, unknown> | undefined;
}

// ---- Docker -> Shoal ----------------------------------------------------------------------

function resources(r: DockerResources | null | undefined, field: string): Resources | undefined {
  if (!r) return undefined;
  return {
    nanoCpus: whole(r.NanoCPUs, `${field}.NanoCPUs`),
    memoryBytes: whole(r.MemoryBytes, `${field}.MemoryBytes`),
    pids: whole(r.Pids, `${field}.Pids`),
    generic: [],
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

/** Docker's TaskTemplate as Shoal's task spec (for ServiceSpec.fromPartial). Throws InvalidArgumentError. */
export function fromDockerTaskSpec(t: DockerTaskSpec): DeepPartial<TaskSpec> {
  refuseUnhonoured(t);
  const c = t.ContainerSpec ?? {};
  const restart = t.RestartPolicy;
  const placement = t.Placement;
  return withGenericAndPlatforms(t, {
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
      ...fromDockerContainerRest(c),
      mounts: fromDockerMounts(c.Mounts),
      ...fromDockerSecretRefs(c),
    },
    logDriver: fromDockerLogDriver(t),
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
          // As Docker's daemon: a preference without Spread is dropped; any descriptor is kept.
          preferences: (placement.Preferences ?? []).flatMap((p) =>
            p?.Spread
              ? [
                  {
                    preference: {
                      $case: "spread" as const,
                      value: { spreadDescriptor: p.Spread.SpreadDescriptor ?? "" },
                    },
                  },
                ]
              : [],
          ),
          maxReplicasPerNode: whole(placement.MaxReplicas, "TaskTemplate.Placement.MaxReplicas"),
        }
      : undefined,
    forceUpdate: whole(t.ForceUpdate, "TaskTemplate.ForceUpdate"),
  });
}

// ---- Shoal -> Docker ----------------------------------------------------------------------

function dockerResources(r: Resources | undefined): DockerResources {
  return defined({ NanoCPUs: nonZero(r?.nanoCpus), MemoryBytes: nonZero(r?.memoryBytes), Pids: nonZero(r?.pids) });
}

/** Shoal's TaskSpec as Docker's TaskSpec (a task's Spec, or a service's TaskTemplate). */
export function toDockerTaskSpec(t: ServiceSpec["taskTemplate"], options: DockerSpecOptions = {}): DockerTaskSpec {
  const insert = options.insertDefaults ?? false;
  const c = t?.container;
  const h = c?.healthcheck;
  const r = t?.restartPolicy;
  const p = t?.placement;
  const base: DockerTaskSpec = defined({
    ContainerSpec: defined({
      Image: c?.image ?? "",
      Labels: c && Object.keys(c.labels).length > 0 ? { ...c.labels } : undefined,
      Command: nonEmpty(c?.command),
      Args: nonEmpty(c?.args),
      Env: nonEmpty(c?.env),
      Dir: c?.dir || undefined,
      User: c?.user || undefined,
      // An empty Test (inherit the image's check) is omitted, as Docker gives it back: `{}`.
      Healthcheck: h
        ? defined({
            Test: nonEmpty(h.test),
            Interval: nonZero(nanos(h.interval)),
            Timeout: nonZero(nanos(h.timeout)),
            StartPeriod: nonZero(nanos(h.startPeriod)),
            Retries: nonZero(h.retries),
          })
        : undefined,
      StopSignal: c?.stopSignal || undefined,
      StopGracePeriod: nanos(c?.stopGracePeriod) ?? (insert ? DEFAULT_STOP_GRACE_NS : undefined),
      ...toDockerContainerRest(c),
      Mounts: toDockerMounts(c?.mounts),
      ...toDockerSecretRefs(c),
    }),
    LogDriver: toDockerLogDriver(t),
    Resources:
      t?.resources || insert
        ? { Limits: dockerResources(t?.resources?.limits), Reservations: dockerResources(t?.resources?.reservations) }
        : undefined,
    RestartPolicy: r
      ? defined({
          Condition: CONDITION_NAMES.get(r.condition) ?? "any",
          Delay: nanos(r.delay) ?? (insert ? DEFAULT_RESTART_DELAY_NS : undefined),
          MaxAttempts: r.maxAttempts,
          Window: nanos(r.window),
        })
      : insert
        ? { Condition: "any", Delay: DEFAULT_RESTART_DELAY_NS, MaxAttempts: 0 }
        : undefined,
    Placement: p
      ? defined({
          Constraints: nonEmpty(p.constraints),
          Preferences: nonEmpty(
            p.preferences.map((x) => ({ Spread: { SpreadDescriptor: x.preference?.value.spreadDescriptor ?? "" } })),
          ),
          MaxReplicas: nonZero(p.maxReplicasPerNode),
        })
      : undefined,
    ForceUpdate: t?.forceUpdate ?? 0,
    Networks: toDockerNetworks(t?.networks),
  });
  addGenericAndPlatforms(base, t);
  const extra = isRecord(options.unmapped?.["TaskTemplate"]) ? options.unmapped["TaskTemplate"] : undefined;
  return mergeUnder(base, extra) as DockerTaskSpec;
}
