// The JSON the CLI prints for list commands: a stable contract, independent of the wire types.
import {
  HealthState,
  NodeAvailability,
  NodeRole,
  NodeState,
  TaskState,
  UpdateState,
  type Node,
  type Service,
  type Task,
  type ServiceReplicaStatus,
} from "@shoal/shared";
import { jobProgress } from "@shoal/manager";
import { modeName, outcomeName } from "./job.js";
import { scheduleView } from "./schedule.js";

const lower = (name: string | undefined): string => (name ?? "").toLowerCase();

export function taskStateName(state: TaskState | undefined): string {
  return lower(TaskState[state ?? TaskState.NEW]);
}

export function healthName(health: HealthState | undefined): string {
  return health === undefined || health === HealthState.UNKNOWN || health === HealthState.NONE
    ? ""
    : lower(HealthState[health]);
}

export interface ReplicaCount {
  running: number;
  desired: number;
  /** Jobs: completed tasks of the current run, and the completions it needs. */
  completed?: number;
  total?: number;
}

/** REPLICAS as `docker service ls` prints it: "2/3", or for a job "3/3 (4/10 completed)". */
export function replicasText(r: ReplicaCount): string {
  return r.total === undefined
    ? `${r.running}/${r.desired}`
    : `${r.running}/${r.desired} (${r.completed ?? 0}/${r.total} completed)`;
}

/**
 * Running tasks (healthy where there is a health check) against what the service asks for; for
 * a job, its current run's (jobProgress), with the completions.
 */
export function replicaCount(service: Service, tasks: readonly Task[]): ReplicaCount {
  const job = jobProgress(service, tasks);
  if (job !== undefined) return job;
  const mine = tasks.filter((t) => t.serviceId === service.id && t.desiredState === TaskState.RUNNING);
  const running = mine.filter(
    (t) => t.status?.state === TaskState.RUNNING && t.status.health !== HealthState.UNHEALTHY,
  ).length;
  const mode = service.spec?.mode;
  const desired = mode?.$case === "replicated" ? mode.value.replicas : mine.length;
  return { running, desired };
}

/** Where REPLICAS come from: the manager's counts per service id, or (an older manager) the tasks. */
export type ReplicaSource = readonly Task[] | ReadonlyMap<string, ReplicaCount>;

/** The manager's counts of a service (ListServices with include_status) as REPLICAS. */
export function replicaCountOf(s: ServiceReplicaStatus, job: boolean): ReplicaCount {
  const count = { running: s.running, desired: s.desired };
  return job ? { ...count, completed: s.completed, total: s.total } : count;
}

/** The service's REPLICAS from `source`. */
export function replicasOf(service: Service, source: ReplicaSource): ReplicaCount {
  if (Array.isArray(source)) return replicaCount(service, source as readonly Task[]);
  return (source as ReadonlyMap<string, ReplicaCount>).get(service.id) ?? { running: 0, desired: 0 };
}

/** The name Swarm gives an update state ("updating", "paused", "rollback_completed", ...); "" for none. */
export function updateStateName(state: UpdateState | undefined): string {
  return state === undefined || state === UpdateState.UNKNOWN ? "" : lower(UpdateState[state]);
}

export interface UpdateStatusJson {
  state: string;
  message: string;
  /** RFC 3339; "" when unset. */
  startedAt: string;
  completedAt: string;
}

/** The service's last rolling update (or rollback); null when it never had one. */
export function updateStatusJson(service: Service): UpdateStatusJson | null {
  const u = service.updateStatus;
  if (!u || u.state === UpdateState.UNKNOWN) return null;
  return {
    state: updateStateName(u.state),
    message: u.message,
    startedAt: u.startedAt?.toISOString() ?? "",
    completedAt: u.completedAt?.toISOString() ?? "",
  };
}

/** A job's current iteration and its runs; null for a service. */
function jobJson(service: Service): Record<string, unknown> | null {
  const status = service.jobStatus;
  if (status === undefined) return null;
  return {
    iteration: status.jobIteration?.index ?? 0,
    runs: status.runs.map((r) => ({
      iteration: r.iteration?.index ?? 0,
      outcome: outcomeName(r.outcome),
      succeeded: r.succeeded,
      failed: r.failed,
      startedAt: r.startedAt?.toISOString() ?? "",
      scheduledFor: r.scheduledFor?.toISOString() ?? "",
      finishedAt: r.finishedAt?.toISOString() ?? "",
    })),
  };
}

export function serviceJson(service: Service, tasks: ReplicaSource, now = Date.now()): Record<string, unknown> {
  return {
    id: service.id,
    name: service.spec?.annotations?.name ?? "",
    mode: modeName(service).replace(" ", "-"), // as --mode spells it
    image: service.spec?.taskTemplate?.container?.image ?? "",
    replicas: replicasOf(service, tasks),
    updateStatus: updateStatusJson(service),
    job: jobJson(service),
    schedule: scheduleView(service, now) ?? null,
  };
}

export function taskJson(task: Task, nodes: ReadonlyMap<string, Node>): Record<string, unknown> {
  return {
    id: task.id,
    serviceId: task.serviceId,
    slot: task.slot,
    nodeId: task.nodeId,
    node: nodes.get(task.nodeId)?.description?.hostname ?? "",
    desiredState: taskStateName(task.desiredState),
    state: taskStateName(task.status?.state),
    health: healthName(task.status?.health),
    message: task.status?.message ?? "",
    error: task.status?.err ?? "",
    exitCode: task.status?.containerStatus?.exitCode ?? 0,
    containerId: task.status?.containerStatus?.containerId ?? "",
  };
}

export function nodeJson(node: Node): Record<string, unknown> {
  return {
    id: node.id,
    hostname: node.description?.hostname ?? "",
    role: lower(NodeRole[node.role]),
    status: lower(NodeState[node.status?.state ?? NodeState.UNKNOWN]),
    availability: lower(NodeAvailability[node.spec?.availability ?? NodeAvailability.ACTIVE]),
    labels: node.spec?.annotations?.labels ?? {},
    address: node.status?.addr ?? "",
  };
}
