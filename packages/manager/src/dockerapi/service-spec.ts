// Docker's ServiceSpec JSON <-> Shoal's ServiceSpec, both ways, pure. Docker fields that Shoal has
// no place for (Networks, DNSConfig, Init, EndpointSpec.Mode, ...) are kept as JSON in one
// reserved label and merged back on the way out: clients send the whole stored spec back on
// every update, and `docker service inspect` shows what was given. Times are nanoseconds in
// Docker's JSON and Durations in ours.
import {
  InvalidArgumentError,
  PortProtocol,
  PublishMode,
  RestartCondition,
  ServiceSpec,
  UpdateFailureAction,
  UpdateOrder,
  type Duration,
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

/** The label that keeps the Docker fields Shoal does not model (JSON). Never shown to Docker clients. */
export const UNMAPPED_LABEL = "com.shoal.docker.unmapped";

const NS_PER_S = 1_000_000_000;
const DEFAULT_STOP_GRACE_NS = 10 * NS_PER_S;
const DEFAULT_RESTART_DELAY_NS = 5 * NS_PER_S;
const DEFAULT_MONITOR_NS = 5 * NS_PER_S;

// ---- shared enum tables -------------------------------------------------------------------

function invert<K extends string, V>(table: Record<K, V>): Map<V, K> {
  return new Map((Object.entries(table) as [K, V][]).map(([k, v]) => [v, k]));
}

const CONDITIONS = {
  any: RestartCondition.ANY,
  "on-failure": RestartCondition.ON_FAILURE,
  none: RestartCondition.NONE,
} as const;
const FAILURE_ACTIONS = {
  pause: UpdateFailureAction.PAUSE,
  continue: UpdateFailureAction.CONTINUE,
  rollback: UpdateFailureAction.ROLLBACK,
} as const;
const ORDERS = { "stop-first": UpdateOrder.STOP_FIRST, "start-first": UpdateOrder.START_FIRST } as const;
const PROTOCOLS = { tcp: PortProtocol.TCP, udp: PortProtocol.UDP } as const;
const PUBLISH_MODES = { ingress: PublishMode.INGRESS, host: PublishMode.HOST } as const;

const CONDITION_NAMES = invert(CONDITIONS);
const FAILURE_ACTION_NAMES = invert(FAILURE_ACTIONS);
const ORDER_NAMES = invert(ORDERS);
const PROTOCOL_NAMES = invert(PROTOCOLS);
const PUBLISH_MODE_NAMES = invert(PUBLISH_MODES);

function pick<T>(table: Record<string, T>, value: string, field: string): T {
  const found = Object.hasOwn(table, value) ? table[value] : undefined;
  if (found === undefined) {
    throw new InvalidArgumentError(`"${value}" is not one of ${Object.keys(table).join(", ")}`, { field });
  }
  return found;
}

// ---- numbers and durations ----------------------------------------------------------------

function whole(value: number | undefined, field: string): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`must be a whole number of at least 0, not ${n}`, { field });
  }
  return n;
}

function duration(ns: number | undefined, field: string): Duration | undefined {
  if (ns === undefined || ns === null) return undefined;
  const n = whole(ns, field);
  return { seconds: Math.floor(n / NS_PER_S), nanos: n % NS_PER_S };
}

function nanos(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * NS_PER_S + d.nanos;
}

/** Copies the entries whose value is not undefined (Docker omits empty fields). */
function defined<R>(o: Record<string, unknown>): R {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;
}

const nonZero = (n: number | undefined): number | undefined => (n ? n : undefined);
const nonEmpty = <T>(a: readonly T[] | undefined): T[] | undefined => (a && a.length > 0 ? [...a] : undefined);

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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

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
function mergeUnder(base: Record<string, unknown>, extra: unknown): Record<string, unknown> {
  if (!isRecord(extra)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    if (b === undefined) out[k] = v;
    else if (isRecord(b) && isRecord(v)) out[k] = mergeUnder(b, v);
  }
  return out;
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

// ---- Shoal -> Docker ----------------------------------------------------------------------

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
