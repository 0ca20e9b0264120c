// The name of a task's container, as Docker Swarm names them. The agent names the containers it
// makes with it; the managers' Docker API shows and finds them by it.
import type { Task } from "./api.js";

/** The service's name, or its id when the task does not carry the name. */
export function serviceName(task: Task): string {
  return task.serviceAnnotations?.name || task.serviceId;
}

/**
 * `<service name>.<slot>.<task id>`; a global task (slot 0) has its node id in place of the
 * slot. Deterministic, so a restarted agent finds the container again.
 */
export function containerName(task: Task): string {
  const position = task.slot > 0 ? String(task.slot) : task.nodeId;
  return `${serviceName(task)}.${position}.${task.id}`;
}
