// Shoal's stored objects (Service, Task, Node) as the Docker Engine API shows them, and a Docker
// NodeSpec as Shoal's. Pure; times are RFC 3339 strings and absent when unknown.
import {
  InvalidArgumentError,
  NodeAvailability,
  NodeRole,
  NodeState,
  Reachability,
  TaskState,
  UpdateState,
  type Network,
  type Node,
  type NodeSpec,
  type RootCA,
  type Service,
  type Task,
} from "@shoal/shared";
import type { DockerNodeSpec } from "./docker-types.js";
import { toDockerPort } from "./endpoint-spec.js";
import { nodeArch } from "./host.js";
import { meta, toDockerEndpoint, toDockerNetworksAttachments } from "./network-objects.js";
import { toDockerServiceSpec } from "./service-spec.js";
import { toDockerTaskSpec } from "./task-spec.js";
import { toDockerGeneric } from "./task-spec-generic.js";
import { nodeTlsInfo } from "./tls-info.js";
import { unmappedFields, visibleLabels } from "./unmapped-fields.js";

const time = (d: Date | undefined): string | undefined => d?.toISOString();

export { meta };

function defined<R>(o: Record<string, unknown>): R {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;
}

export const TASK_STATE_NAMES: ReadonlyMap<TaskState, string> = new Map([
  [TaskState.NEW, "new"],
  [TaskState.PENDING, "pending"],
  [TaskState.ASSIGNED, "assigned"],
  [TaskState.ACCEPTED, "accepted"],
  [TaskState.PREPARING, "preparing"],
  [TaskState.STARTING, "starting"],
  [TaskState.RUNNING, "running"],
  [TaskState.COMPLETE, "complete"],
  [TaskState.SHUTDOWN, "shutdown"],
  [TaskState.FAILED, "failed"],
  [TaskState.REJECTED, "rejected"],
  [TaskState.REMOVE, "remove"],
  [TaskState.ORPHANED, "orphaned"],
]);

export const TASK_STATES_BY_NAME: ReadonlyMap<string, TaskState> = new Map(
  [...TASK_STATE_NAMES].map(([k, v]) => [v, k]),
);

const UPDATE_STATE_NAMES = new Map([
  [UpdateState.UPDATING, "updating"],
  [UpdateState.PAUSED, "paused"],
  [UpdateState.COMPLETED, "completed"],
  [UpdateState.ROLLBACK_STARTED, "rollback_started"],
  [UpdateState.ROLLBACK_PAUSED, "rollback_paused"],
  [UpdateState.ROLLBACK_COMPLETED, "rollback_completed"],
]);

const NODE_STATES = new Map([
  [NodeState.UNKNOWN, "unknown"],
  [NodeState.DOWN, "down"],
  [NodeState.READY, "ready"],
  [NodeState.DISCONNECTED, "disconnected"],
]);
const ROLES = { worker: NodeRole.WORKER, manager: NodeRole.MANAGER } as const;
const AVAILABILITIES = {
  active: NodeAvailability.ACTIVE,
  pause: NodeAvailability.PAUSE,
  drain: NodeAvailability.DRAIN,
} as const;
const REACHABILITY = new Map([
  [Reachability.UNKNOWN, "unknown"],
  [Reachability.UNREACHABLE, "unreachable"],
  [Reachability.REACHABLE, "reachable"],
]);

/** A manager's reachability as Docker names it. */
export function reachabilityName(r: Reachability): string {
  return REACHABILITY.get(r) ?? "unknown";
}

const nameOf = <V>(table: Record<string, V>, v: V): string =>
  Object.entries(table).find(([, x]) => x === v)?.[0] ?? "unknown";

export interface ServiceCounts {
  readonly running: number;
  readonly desired: number;
  /** Jobs: tasks of the current run that completed. */
  readonly completed?: number;
}

/** A Service as `GET /services/{id}` shows it (`ServiceStatus` only when counts are given). */
export function toDockerService(
  service: Service,
  options: { insertDefaults?: boolean; counts?: ServiceCounts } = {},
): Record<string, unknown> {
  const spec = service.spec;
  const dockerSpec = spec ? toDockerServiceSpec(spec, { insertDefaults: options.insertDefaults ?? false }) : {};
  const u = service.updateStatus;
  return defined({
    ID: service.id,
    ...meta(service.meta),
    Spec: dockerSpec,
    PreviousSpec: service.previousSpec ? toDockerServiceSpec(service.previousSpec) : undefined,
    Endpoint: toDockerEndpoint(service),
    UpdateStatus:
      u && u.state !== UpdateState.UNKNOWN
        ? defined({
            State: UPDATE_STATE_NAMES.get(u.state),
            StartedAt: time(u.startedAt),
            CompletedAt: time(u.completedAt),
            Message: u.message,
          })
        : undefined,
    ServiceStatus: options.counts
      ? {
          RunningTasks: options.counts.running,
          DesiredTasks: options.counts.desired,
          CompletedTasks: options.counts.completed ?? 0,
        }
      : undefined,
    // Jobs only, as Docker: the docker CLI tells a job by it and follows its tasks' JobIteration.
    JobStatus: service.jobStatus
      ? defined({
          JobIteration: { Index: service.jobStatus.jobIteration?.index ?? 0 },
          LastExecution: time(service.jobStatus.lastExecution),
        })
      : undefined,
  });
}

/**
 * A replicated job's slot as Docker numbers it: from 0 (SwarmKit's, which the docker CLI's job
 * progress counts on), where Shoal's slots start at 1 as for any replicated task.
 */
function dockerSlot(task: Task): number | undefined {
  if (task.jobIteration !== undefined && task.slot > 0) return task.slot - 1 || undefined; // 0 left out, as Docker
  return task.slot || undefined;
}

/**
 * The desired state as Docker shows it. A job's task is wanted to complete ("complete", as
 * SwarmKit's job tasks), also once it completed and Shoal shut it down as history.
 */
function dockerDesiredState(task: Task): string {
  const job = task.jobIteration !== undefined;
  if (job && (task.desiredState <= TaskState.RUNNING || task.status?.state === TaskState.COMPLETE)) return "complete";
  return TASK_STATE_NAMES.get(task.desiredState) ?? "running";
}

/** A Task as `GET /tasks` shows it. The spec's kept-aside Docker fields come from the service labels the task carries. */
export function toDockerTask(task: Task, networks: ReadonlyMap<string, Network> = new Map()): Record<string, unknown> {
  const s = task.status;
  const c = s?.containerStatus;
  return defined({
    ID: task.id,
    ...meta(task.meta),
    Labels: {},
    Spec: toDockerTaskSpec(task.spec, { unmapped: unmappedFields(task.serviceAnnotations?.labels) }),
    ServiceID: task.serviceId,
    Slot: dockerSlot(task),
    NodeID: task.nodeId || undefined,
    Status: defined({
      Timestamp: time(s?.timestamp ?? task.meta?.createdAt),
      State: TASK_STATE_NAMES.get(s?.state ?? TaskState.NEW) ?? "new",
      Message: s?.message ?? "",
      Err: s?.err || undefined,
      ContainerStatus: c ? { ContainerID: c.containerId, PID: c.pid, ExitCode: c.exitCode } : undefined,
      PortStatus: { Ports: s?.portStatus?.ports.length ? s.portStatus.ports.map(toDockerPort) : undefined },
    }),
    DesiredState: dockerDesiredState(task),
    GenericResources: toDockerGeneric(task.assignedGenericResources),
    JobIteration: task.jobIteration ? { Index: task.jobIteration.index } : undefined,
    NetworksAttachments: toDockerNetworksAttachments(task, networks),
  });
}

/**
 * A Node as `GET /nodes` shows it. TLSInfo needs the cluster's CA (`rootCa`); the architecture is
 * named as the kernel names it, as Docker shows it; Engine.Plugins as the agent reported them
 * (left out when none, as Docker omits it).
 */
export function toDockerNode(node: Node, rootCa?: RootCA): Record<string, unknown> {
  const d = node.description;
  const m = node.managerStatus;
  const spec = node.spec;
  const engineLabels = d?.engine?.labels ?? {};
  return defined({
    ID: node.id,
    ...meta(node.meta),
    Spec: defined({
      Name: spec?.annotations?.name || undefined,
      Labels: visibleLabels(spec?.annotations?.labels),
      Role: nameOf(ROLES, spec?.desiredRole ?? node.role),
      Availability: nameOf(AVAILABILITIES, spec?.availability ?? NodeAvailability.ACTIVE),
    }),
    Description: d
      ? defined({
          Hostname: d.hostname,
          Platform: { Architecture: nodeArch(d.platform?.architecture ?? ""), OS: d.platform?.os ?? "" },
          Resources: defined({
            NanoCPUs: d.resources?.nanoCpus ?? 0,
            MemoryBytes: d.resources?.memoryBytes ?? 0,
            GenericResources: toDockerGeneric(d.resources?.generic),
          }),
          Engine: defined({
            EngineVersion: d.engine?.engineVersion ?? "",
            Labels: Object.keys(engineLabels).length > 0 ? { ...engineLabels } : undefined,
            Plugins: d.engine?.plugins.length
              ? d.engine.plugins.map((p) => ({ Type: p.type, Name: p.name }))
              : undefined,
          }),
          TLSInfo: nodeTlsInfo(rootCa, node.certificate?.issuerDigest),
        })
      : undefined,
    Status: defined({
      State: NODE_STATES.get(node.status?.state ?? NodeState.UNKNOWN) ?? "unknown",
      Message: node.status?.message || undefined,
      Addr: node.status?.addr ?? "",
    }),
    ManagerStatus: m ? { Leader: m.leader, Reachability: reachabilityName(m.reachability), Addr: m.addr } : undefined,
  });
}

/** A Docker NodeSpec (from `POST /nodes/{id}/update`) as Shoal's. */
export function fromDockerNodeSpec(spec: DockerNodeSpec): NodeSpec {
  const role = spec.Role || "worker";
  const availability = spec.Availability || "active";
  if (!Object.hasOwn(ROLES, role)) {
    throw new InvalidArgumentError(`"${role}" is not one of worker, manager`, { field: "Role" });
  }
  if (!Object.hasOwn(AVAILABILITIES, availability)) {
    throw new InvalidArgumentError(`"${availability}" is not one of active, pause, drain`, { field: "Availability" });
  }
  return {
    annotations: { name: spec.Name ?? "", labels: { ...(spec.Labels ?? {}) } },
    desiredRole: ROLES[role as keyof typeof ROLES],
    availability: AVAILABILITIES[availability as keyof typeof AVAILABILITIES],
  };
}
