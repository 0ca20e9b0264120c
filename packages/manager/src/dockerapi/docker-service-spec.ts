// Shoal's ServiceSpec as Docker's ServiceSpec JSON (service-spec.ts goes the other way): the
// Docker fields kept aside in the reserved label are merged back in; with insertDefaults, the
// defaults Shoal applies to unset fields are filled in, as Docker's `insertDefaults=true` does.
import type { PortConfig, Resources, ServiceSpec, UpdateConfig } from "@shoal/shared";
import type {
  DockerPortConfig,
  DockerResources,
  DockerServiceSpec,
  DockerTaskSpec,
  DockerUpdateConfig,
} from "./docker-types.js";
import {
  CONDITION_NAMES,
  DEFAULT_MONITOR_NS,
  DEFAULT_RESTART_DELAY_NS,
  DEFAULT_STOP_GRACE_NS,
  FAILURE_ACTION_NAMES,
  ORDER_NAMES,
  PROTOCOL_NAMES,
  PUBLISH_MODE_NAMES,
  UNMAPPED_LABEL,
  defined,
  isRecord,
  mergeUnder,
  nanos,
  nonEmpty,
  nonZero,
} from "./spec-common.js";

function dockerResources(r: Resources | undefined): DockerResources {
  return defined({ NanoCPUs: nonZero(r?.nanoCpus), MemoryBytes: nonZero(r?.memoryBytes) });
}

function dockerUpdateConfig(u: UpdateConfig | undefined, insertDefaults: boolean): DockerUpdateConfig | undefined {
  if (!u) {
    if (!insertDefaults) return undefined;
    return {
      Parallelism: 1,
      FailureAction: "pause",
      Monitor: DEFAULT_MONITOR_NS,
      MaxFailureRatio: 0,
      Order: "stop-first",
    };
  }
  return defined({
    Parallelism: u.parallelism,
    Delay: nonZero(nanos(u.delay)),
    FailureAction: FAILURE_ACTION_NAMES.get(u.failureAction) ?? "pause",
    Monitor: nanos(u.monitor) ?? (insertDefaults ? DEFAULT_MONITOR_NS : undefined),
    MaxFailureRatio: u.maxFailureRatio,
    Order: ORDER_NAMES.get(u.order) ?? "stop-first",
  });
}

export function toDockerPort(p: PortConfig): DockerPortConfig {
  return defined({
    Name: p.name || undefined,
    Protocol: PROTOCOL_NAMES.get(p.protocol) ?? "tcp",
    TargetPort: p.targetPort,
    PublishedPort: p.publishedPort,
    PublishMode: PUBLISH_MODE_NAMES.get(p.publishMode) ?? "ingress",
  });
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

export interface DockerSpecOptions {
  /** As `insertDefaults=true`: fill in the defaults Shoal applies to unset fields. */
  readonly insertDefaults?: boolean;
  /** The Docker fields kept aside for this spec (from the service's labels), merged back in. */
  readonly unmapped?: Record<string, unknown> | undefined;
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
      Healthcheck: h
        ? defined({
            Test: [...h.test],
            Interval: nonZero(nanos(h.interval)),
            Timeout: nonZero(nanos(h.timeout)),
            StartPeriod: nonZero(nanos(h.startPeriod)),
            Retries: nonZero(h.retries),
          })
        : undefined,
      StopSignal: c?.stopSignal || undefined,
      StopGracePeriod: nanos(c?.stopGracePeriod) ?? (insert ? DEFAULT_STOP_GRACE_NS : undefined),
    }),
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
  });
  const extra = isRecord(options.unmapped?.["TaskTemplate"]) ? options.unmapped["TaskTemplate"] : undefined;
  return mergeUnder(base, extra) as DockerTaskSpec;
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
    UpdateConfig: dockerUpdateConfig(spec.updateConfig, insert),
    RollbackConfig: dockerUpdateConfig(spec.rollbackConfig, insert),
    EndpointSpec: ports || insert ? defined({ Mode: insert ? "vip" : undefined, Ports: ports }) : undefined,
  });
  const { TaskTemplate: _ignored, ...rest } = unmapped ?? {};
  return mergeUnder(base, rest) as DockerServiceSpec;
}
