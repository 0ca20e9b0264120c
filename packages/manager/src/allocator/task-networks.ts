// What a task asks of the allocator, and whether it has it: the rules the allocator and the
// scheduler share. A task joins each network of its spec (TaskSpec.networks), then the ingress
// network when its endpoint publishes a port in ingress mode; its networks are allocated once
// Task.networks holds one attachment with an address for each.
import { PublishMode, TaskState, type EndpointSpec, type Task } from "@shoal/shared";

function stateOf(task: Task): TaskState {
  return task.status?.state ?? TaskState.NEW;
}

/** The endpoint publishes a port through the routing mesh. */
export function publishesIngress(endpoint: EndpointSpec | undefined): boolean {
  return (endpoint?.ports ?? []).some((p) => p.publishMode === PublishMode.INGRESS);
}

/** How many attachments the task needs: its spec's networks, and ingress. */
export function wantedAttachments(task: Task): number {
  return (task.spec?.networks.length ?? 0) + (publishesIngress(task.endpoint) ? 1 : 0);
}

/** The task needs no network, or has an address on each. The scheduler places only these. */
export function networksAllocated(task: Task): boolean {
  const wanted = wantedAttachments(task);
  if (wanted === 0) return true;
  return task.networks.length === wanted && task.networks.every((a) => a.addresses.length > 0);
}

/** The allocator's work: a task still wanted, not yet assigned, whose networks are not allocated. */
export function needsAllocation(task: Task): boolean {
  return task.desiredState <= TaskState.RUNNING && stateOf(task) < TaskState.ASSIGNED && !networksAllocated(task);
}

/**
 * A task holds its addresses until it ended (observed state past RUNNING), or, never assigned,
 * it is no longer wanted (it will never reach a node).
 */
export function holdsAddresses(task: Task): boolean {
  const state = stateOf(task);
  if (state > TaskState.RUNNING) return false;
  return !(state < TaskState.ASSIGNED && task.desiredState > TaskState.RUNNING);
}

/** Whether the allocator has anything to look at in the task (the watch's filter). */
export function touchesNetworks(task: Task): boolean {
  return task.networks.length > 0 || wantedAttachments(task) > 0;
}
