// Nodes and tasks for the scheduler's tests, with deterministic ids.
import {
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  PortProtocol,
  PublishMode,
  Task,
  TaskState,
  type PlacementPreference,
} from "@shoal/shared";

export const GiB = 1024 ** 3;
export const CPU = 1e9;

export interface NodeOptions {
  readonly id?: string;
  readonly labels?: Record<string, string>;
  readonly engineLabels?: Record<string, string>;
  readonly role?: NodeRole;
  readonly state?: NodeState;
  readonly availability?: NodeAvailability;
  readonly nanoCpus?: number;
  readonly memoryBytes?: number;
  readonly os?: string;
  readonly arch?: string;
}

/** A ready, active worker with 4 CPUs and 8 GiB; its id is its hostname unless given. */
export function makeNode(hostname: string, o: NodeOptions = {}): Node {
  return Node.fromPartial({
    id: o.id ?? hostname,
    meta: { version: { index: 1 } },
    spec: {
      annotations: { name: "", labels: o.labels ?? {} },
      desiredRole: o.role ?? NodeRole.WORKER,
      availability: o.availability ?? NodeAvailability.ACTIVE,
    },
    description: {
      hostname,
      platform: { os: o.os ?? "linux", architecture: o.arch ?? "amd64" },
      resources: { nanoCpus: o.nanoCpus ?? 4 * CPU, memoryBytes: o.memoryBytes ?? 8 * GiB },
      engine: { engineVersion: "27.5.1", labels: o.engineLabels ?? {} },
    },
    status: { state: o.state ?? NodeState.READY, message: "", addr: "10.0.0.1" },
    role: o.role ?? NodeRole.WORKER,
  });
}

export interface TaskOptions {
  readonly id?: string;
  readonly nodeId?: string;
  readonly state?: TaskState;
  readonly desiredState?: TaskState;
  readonly nanoCpus?: number;
  readonly memoryBytes?: number;
  readonly constraints?: string[];
  /** Spread descriptors, e.g. "node.labels.rack". */
  readonly spread?: string[];
  readonly maxReplicasPerNode?: number;
  /** Host-mode published TCP ports. */
  readonly hostPorts?: number[];
  readonly timestamp?: Date;
  readonly version?: number;
}

/** Task `slot` of `serviceId` (id "<service>.<slot>"), NEW and without a node unless told. */
export function makeTask(serviceId: string, slot: number, o: TaskOptions = {}): Task {
  const preferences: PlacementPreference[] = (o.spread ?? []).map((d) => ({
    preference: { $case: "spread", value: { spreadDescriptor: d } },
  }));
  return Task.fromPartial({
    id: o.id ?? `${serviceId}.${slot}`,
    meta: { version: { index: o.version ?? 1 } },
    serviceId,
    slot,
    nodeId: o.nodeId ?? "",
    spec: {
      container: { image: "busybox" },
      resources: {
        reservations: { nanoCpus: o.nanoCpus ?? 0, memoryBytes: o.memoryBytes ?? 0 },
      },
      placement: {
        constraints: o.constraints ?? [],
        preferences,
        maxReplicasPerNode: o.maxReplicasPerNode ?? 0,
      },
    },
    status: {
      state: o.state ?? TaskState.NEW,
      timestamp: o.timestamp ?? new Date(1_760_000_000_000),
      message: "",
      err: "",
    },
    desiredState: o.desiredState ?? TaskState.RUNNING,
    endpoint: {
      ports: (o.hostPorts ?? []).map((p) => ({
        name: "",
        protocol: PortProtocol.TCP,
        targetPort: 80,
        publishedPort: p,
        publishMode: PublishMode.HOST,
      })),
    },
  });
}

/** Slots from..to of a service. */
export function makeTasks(serviceId: string, from: number, to: number, o: TaskOptions = {}): Task[] {
  const out: Task[] = [];
  for (let slot = from; slot <= to; slot++) out.push(makeTask(serviceId, slot, o));
  return out;
}

/** A running task on `nodeId`. */
export function runningTask(serviceId: string, slot: number, nodeId: string, o: TaskOptions = {}): Task {
  return makeTask(serviceId, slot, { ...o, nodeId, state: TaskState.RUNNING });
}

/** Tasks per node id, for the assigned ones; nodes with none are left out. */
export function countPerNode(assignments: ReadonlyMap<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const nodeId of assignments.values()) out[nodeId] = (out[nodeId] ?? 0) + 1;
  return out;
}

/** The tasks of `pending` as the store would hold them once assigned as `assignments` says. */
export function applyAssignments(pending: readonly Task[], assignments: ReadonlyMap<string, string>): Task[] {
  return pending.flatMap((t) => {
    const nodeId = assignments.get(t.id);
    if (nodeId === undefined) return [];
    return [Task.fromPartial({ ...t, nodeId, status: { ...t.status, state: TaskState.ASSIGNED } })];
  });
}
