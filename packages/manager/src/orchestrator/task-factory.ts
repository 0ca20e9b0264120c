// Making a task for a slot of a service, and reading a service's mode.
//
// Every new task starts with status NEW ("created by an orchestrator, not yet seen by the
// scheduler", as in SwarmKit) and desired state RUNNING:
// - replicated: no node. The scheduler takes every task with desired state <= RUNNING and status
//   below ASSIGNED, picks a node and moves it to ASSIGNED (or to PENDING with the reason why no
//   node fits).
// - global: its node set (the node is its slot). The scheduler checks it against that node alone
//   (resources, host ports) and moves it to ASSIGNED there, or leaves it PENDING with the reason.
// - jobs: as replicated (replicated jobs) or global (global jobs), and the job iteration they run
//   for (Task.job_iteration; see jobs/).
import {
  Annotations,
  EndpointSpec,
  HealthState,
  TaskSpec,
  TaskState,
  newId,
  type Service,
  type ServiceSpec,
  type Task,
  type Version,
} from "@shoal/shared";

export const INITIAL_TASK_STATE = TaskState.NEW;

export function isGlobalService(service: Service): boolean {
  return service.spec?.mode?.$case === "global";
}

/** Whether the service is a job (replicated or global): its tasks run to completion. */
export function isJobService(service: Service): boolean {
  const mode = service.spec?.mode?.$case;
  return mode === "replicatedJob" || mode === "globalJob";
}

/** Whether the service runs one task per node: global services and global jobs. */
export function isPerNode(service: Service): boolean {
  const mode = service.spec?.mode?.$case;
  return mode === "global" || mode === "globalJob";
}

/** The job's current iteration (Service.job_status.job_iteration); 0: no run yet, or not a job. */
export function jobIteration(service: Service): number {
  return service.jobStatus?.jobIteration?.index ?? 0;
}

/**
 * A replicated job's completions wanted and tasks allowed at once, with the proto's defaults:
 * max_concurrent 0 means total_completions, total_completions 0 means max_concurrent, both 0
 * mean 1. Undefined for any other mode.
 */
export function replicatedJobCounts(
  spec: ServiceSpec | undefined,
): { total: number; maxConcurrent: number } | undefined {
  const mode = spec?.mode;
  if (mode?.$case !== "replicatedJob") return undefined;
  const total = mode.value.totalCompletions || mode.value.maxConcurrent || 1;
  return { total, maxConcurrent: Math.min(total, mode.value.maxConcurrent || total) };
}

/** Replicas wanted by a replicated service (an unset mode means 1); 0 for a global one. */
export function desiredReplicas(service: Service): number {
  const mode = service.spec?.mode;
  if (mode === undefined) return 1;
  return mode.$case === "replicated" ? mode.value.replicas : 0;
}

/** The version of the spec tasks are made from: `specVersion`, else the service's version. */
export function serviceSpecVersion(service: Service): Version {
  return { index: service.specVersion?.index ?? service.meta?.version?.index ?? 0 };
}

/**
 * Whether `t` runs what `service` asks for now: it was made from the current spec version, or
 * from an older one with the same task definition (template and endpoint: a rollback returns to
 * the spec older tasks were made from, and those stay). Tasks that are not up to date are the
 * ones a rolling update replaces.
 */
export function isUpToDate(t: Task, service: Service): boolean {
  const version = t.specVersion?.index ?? 0;
  if (version === serviceSpecVersion(service).index) return true;
  // Tasks of one spec version were all made from the same spec: compare once per version.
  let byVersion = answers.get(service);
  if (byVersion === undefined) answers.set(service, (byVersion = new Map()));
  let same = byVersion.get(version);
  if (same === undefined) {
    same = definitionOf(t.spec, t.endpoint) === serviceDefinition(service);
    byVersion.set(version, same);
  }
  return same;
}

const definitions = new WeakMap<Service, string>();
const answers = new WeakMap<Service, Map<number, boolean>>();

function serviceDefinition(service: Service): string {
  let d = definitions.get(service);
  if (d === undefined) {
    d = definitionOf(service.spec?.taskTemplate, service.spec?.endpoint);
    definitions.set(service, d);
  }
  return d;
}

function definitionOf(spec: TaskSpec | undefined, endpoint: EndpointSpec | undefined): string {
  const bytes = (b: Uint8Array): string => Buffer.from(b).toString("base64");
  return `${bytes(TaskSpec.encode(spec ?? TaskSpec.create()).finish())}/${bytes(EndpointSpec.encode(endpoint ?? EndpointSpec.create()).finish())}`;
}

export function serviceName(service: Service): string {
  return service.spec?.annotations?.name || service.id;
}

/** Where a new task goes: a slot number (replicated) or a node (global). */
export type TaskTarget = { readonly slot: number } | { readonly nodeId: string };

/**
 * A new task for `service` at `target`, made at `now` (ms): its own id, the service's task
 * template, annotations and endpoint, named "<service>.<slot>" or "<service>.<node id>".
 * The task shares the service's spec objects (the store copies what it is given, and tasks of
 * one service are made by the thousand): copy it before changing them.
 */
export function newTask(service: Service, target: TaskTarget, now: number, id: string = newId()): Task {
  const spec = service.spec;
  const global = "nodeId" in target;
  return {
    id,
    meta: undefined,
    spec: spec?.taskTemplate ?? TaskSpec.create(),
    serviceId: service.id,
    slot: global ? 0 : target.slot,
    nodeId: global ? target.nodeId : "",
    annotations: { name: `${serviceName(service)}.${global ? target.nodeId : target.slot}`, labels: {} },
    serviceAnnotations: spec?.annotations ?? Annotations.create(),
    assignedGenericResources: [],
    networks: [],
    status: {
      timestamp: new Date(now),
      state: INITIAL_TASK_STATE,
      message: "created",
      err: "",
      containerStatus: undefined,
      health: HealthState.UNKNOWN,
      portStatus: undefined,
    },
    desiredState: TaskState.RUNNING,
    specVersion: serviceSpecVersion(service),
    endpoint: spec?.endpoint,
    // A job's tasks belong to its current run; the restart supervisor's successors too.
    jobIteration: isJobService(service) ? { index: jobIteration(service) } : undefined,
  };
}
