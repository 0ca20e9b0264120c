// Small objects for the orchestrators' tests: services, nodes and tasks with readable ids, and
// store times set by hand (the reconcilers read meta.createdAt and meta.updatedAt).
import {
  Cluster,
  Node,
  NodeAvailability,
  NodeState,
  RestartCondition,
  Service,
  Task,
  TaskState,
  durationFromMs,
  type RestartPolicy,
  type ServiceMode,
} from "@shoal/shared";

export interface RestartOptions {
  readonly condition?: RestartCondition;
  readonly delayMs?: number;
  readonly maxAttempts?: number;
  readonly windowMs?: number;
}

export function restartPolicy(r: RestartOptions = {}): RestartPolicy {
  return {
    condition: r.condition ?? RestartCondition.ANY,
    delay: r.delayMs === undefined ? undefined : durationFromMs(r.delayMs),
    maxAttempts: r.maxAttempts ?? 0,
    window: r.windowMs === undefined ? undefined : durationFromMs(r.windowMs),
  };
}

export interface ServiceOptions {
  readonly id?: string;
  readonly replicas?: number;
  readonly global?: boolean;
  readonly restart?: RestartOptions;
  readonly version?: number;
  readonly constraints?: string[];
}

export function service(name: string, o: ServiceOptions = {}): Service {
  const mode: ServiceMode = o.global
    ? { $case: "global", value: {} }
    : { $case: "replicated", value: { replicas: o.replicas ?? 1 } };
  const s = Service.fromPartial({
    id: o.id ?? `svc-${name}`,
    meta: { version: { index: o.version ?? 1 } },
    spec: {
      annotations: { name, labels: { team: "web" } },
      taskTemplate: {
        container: { image: "registry:5000/busybox:latest", args: ["sleep", "1000"] },
        restartPolicy: o.restart === undefined ? undefined : restartPolicy(o.restart),
        placement: { constraints: o.constraints ?? [] },
      },
      endpoint: { ports: [] },
    },
    specVersion: { index: o.version ?? 1 },
  });
  s.spec!.mode = mode;
  return s;
}

export interface NodeOptions {
  readonly state?: NodeState;
  readonly availability?: NodeAvailability;
  readonly labels?: Record<string, string>;
}

export function node(id: string, o: NodeOptions = {}): Node {
  return Node.fromPartial({
    id,
    spec: {
      annotations: { name: "", labels: o.labels ?? {} },
      availability: o.availability ?? NodeAvailability.ACTIVE,
    },
    description: { hostname: `host-${id}` },
    status: { state: o.state ?? NodeState.READY },
  });
}

export function cluster(historyLimit = 0): Cluster {
  return Cluster.fromPartial({
    id: "cluster",
    spec: { annotations: { name: "default" }, orchestration: { taskHistoryRetentionLimit: historyLimit } },
  });
}

export interface TaskOptions {
  readonly id?: string;
  readonly slot?: number;
  readonly nodeId?: string;
  readonly state?: TaskState;
  readonly desired?: TaskState;
  /** Store times, in ms. */
  readonly created?: number;
  readonly updated?: number;
  readonly version?: number;
  readonly specVersion?: number;
  readonly exitCode?: number;
}

let counter = 0;

/** A task of `svc` as the store would hold it, with its spec copied from the service. */
export function task(svc: Service, o: TaskOptions = {}): Task {
  const created = o.created ?? 0;
  const slot = o.slot ?? 0;
  return Task.fromPartial({
    id: o.id ?? `t${++counter}`,
    meta: {
      version: { index: o.version ?? 1 },
      createdAt: new Date(created),
      updatedAt: new Date(o.updated ?? created),
    },
    spec: svc.spec?.taskTemplate ?? {},
    serviceId: svc.id,
    slot,
    nodeId: o.nodeId ?? "",
    annotations: { name: `${svc.spec?.annotations?.name}.${slot || o.nodeId}` },
    status: {
      state: o.state ?? TaskState.RUNNING,
      timestamp: new Date(o.updated ?? created),
      containerStatus: { containerId: "", pid: 0, exitCode: o.exitCode ?? 0 },
    },
    desiredState: o.desired ?? TaskState.RUNNING,
    specVersion: { index: o.specVersion ?? o.version ?? 1 },
  });
}

/** Predictable ids for new tasks: new-1, new-2, ... */
export function idSource(prefix = "new"): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}
