// What the scheduler reads from a task: whether it waits for a node (the pending rule), what it
// holds on its node once there, and the key under which tasks are placed together.
import { PortProtocol, PublishMode, TaskState, type GenericResource, type Task } from "@shoal/shared";
import { genericWants } from "./generic-pool.js";
import { networksAllocated } from "../allocator/task-networks.js";

/**
 * The pending rule: a task waits for the scheduler while it is wanted (desired state RUNNING or
 * below) and not yet assigned (observed state NEW or PENDING, i.e. below ASSIGNED). A task without
 * a node id is placed on the best node; a task that already names its node (a global service's
 * task) is "preassigned": it is checked against that node alone and assigned there if it fits.
 * Orchestrators create tasks in NEW; the scheduler moves them to ASSIGNED, or to PENDING with the
 * reason (in status.err) when no node fits. A task that joins networks waits first for the
 * allocator to give it its addresses (Task.networks): the allocator's write brings it here.
 */
export function needsPlacement(task: Task): boolean {
  return (
    task.desiredState <= TaskState.RUNNING &&
    (task.status?.state ?? TaskState.NEW) < TaskState.ASSIGNED &&
    networksAllocated(task)
  );
}

/**
 * How a task weighs on its node: "none" (not on a node yet, or ended); "reserved" (holds its
 * reservations and host ports: its container may still run, but it is being shut down); "active"
 * (holds them and counts as a task of its service on the node).
 */
export type Occupancy = "none" | "reserved" | "active";

/**
 * A task holds its node's resources and host ports from ASSIGNED until its container is known to
 * have stopped (observed state above RUNNING), whatever its desired state: a task being shut down
 * still runs until the agent reports it ended, and placing another in its place earlier could
 * overcommit the node or collide on a host port (SwarmKit counts it the same way). Only tasks still
 * wanted (desired state RUNNING or below) count for spread and for max replicas per node. A task
 * below ASSIGNED holds nothing, even if it names its node (a preassigned task waits to be placed).
 */
export function occupancy(task: Task): Occupancy {
  const state = task.status?.state ?? TaskState.NEW;
  if (task.nodeId === "" || state < TaskState.ASSIGNED || state > TaskState.RUNNING) return "none";
  return task.desiredState <= TaskState.RUNNING ? "active" : "reserved";
}

/** A task that failed on its node: counted against that node for a while when placing its service. */
export function isFailure(task: Task): boolean {
  const state = task.status?.state;
  return task.nodeId !== "" && (state === TaskState.FAILED || state === TaskState.REJECTED);
}

/** What a task takes from its node. Tasks placed together share one. */
export interface TaskUsage {
  readonly serviceId: string;
  readonly nanoCpus: number;
  readonly memoryBytes: number;
  /** Host-mode published ports, as `portKey` gives them. */
  readonly hostPorts: readonly number[];
  /** The generic resources (GPUs, ...) the task was given on its node. */
  readonly generic: readonly GenericResource[];
}

/** A published port and its protocol as one number. */
export function portKey(protocol: PortProtocol, port: number): number {
  return protocol * 65_536 + port;
}

/** "8080/tcp" */
export function portName(key: number): string {
  const port = key % 65_536;
  return `${port}/${(key - port) / 65_536 === PortProtocol.UDP ? "udp" : "tcp"}`;
}

/** The host ports a task publishes: host mode with a fixed published port (0 lets Docker choose). */
export function hostPorts(task: Task): number[] {
  const out: number[] = [];
  for (const p of task.endpoint?.ports ?? []) {
    if (p.publishMode === PublishMode.HOST && p.publishedPort !== 0) out.push(portKey(p.protocol, p.publishedPort));
  }
  return out;
}

export function taskUsage(task: Task): TaskUsage {
  const r = task.spec?.resources?.reservations;
  return {
    serviceId: task.serviceId,
    nanoCpus: r?.nanoCpus ?? 0,
    memoryBytes: r?.memoryBytes ?? 0,
    hostPorts: hostPorts(task),
    generic: task.assignedGenericResources,
  };
}

/**
 * Tasks with equal keys are placed together: same service, same scheduling-relevant spec
 * (reservations, constraints, preferences, max replicas, host ports, generic resources, platforms). Preassigned tasks are not
 * grouped. Built from the fields, not from the whole spec: cheap for 100,000 tasks.
 */
export function groupKey(task: Task): string {
  const spec = task.spec;
  const r = spec?.resources?.reservations;
  const p = spec?.placement;
  let prefs = "";
  for (const pref of p?.preferences ?? []) {
    prefs += `${pref.preference?.$case ?? ""}:${pref.preference?.value.spreadDescriptor ?? ""}\u0001`;
  }
  const ports = hostPorts(task).join(",");
  const generic = genericWants(r?.generic).map((w) => `${w.kind}=${w.count}`);
  const platforms = (p?.platforms ?? []).map((x) => `${x.os}/${x.architecture}`);
  return [
    task.serviceId,
    r?.nanoCpus ?? 0,
    r?.memoryBytes ?? 0,
    p?.maxReplicasPerNode ?? 0,
    (p?.constraints ?? []).join("\u0001"),
    prefs,
    ports,
    generic.join("\u0001"),
    platforms.join("\u0001"),
    task.networks.length,
  ].join("\u0000");
}
