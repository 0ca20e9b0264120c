// Small rules about task statuses that the worker and its runners share. States are ordered
// numbers and a task only moves forward: of two statuses, the later state wins.
import { HealthState, TaskState, type TaskStatus } from "@shoal/shared";

/** COMPLETE, SHUTDOWN, FAILED, REJECTED, ORPHANED (and REMOVE, a desired state only). */
export function isTerminal(state: TaskState): boolean {
  return state >= TaskState.COMPLETE;
}

/** The status of a task nobody has seen yet. */
export function newStatus(): TaskStatus {
  return {
    timestamp: undefined,
    state: TaskState.NEW,
    message: "",
    err: "",
    containerStatus: undefined,
    health: HealthState.UNKNOWN,
    portStatus: undefined,
  };
}

/** The status with the later state; `a` on a tie (pass the local one first: it saw the container). */
export function laterStatus(a: TaskStatus | undefined, b: TaskStatus | undefined): TaskStatus | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.state > a.state ? b : a;
}

/** Whether `b` says something `a` does not (the timestamp aside). */
export function statusChanged(a: TaskStatus | undefined, b: TaskStatus): boolean {
  if (a === undefined) return true;
  return (
    a.state !== b.state ||
    a.message !== b.message ||
    a.err !== b.err ||
    a.health !== b.health ||
    a.containerStatus?.containerId !== b.containerStatus?.containerId ||
    a.containerStatus?.exitCode !== b.containerStatus?.exitCode ||
    a.containerStatus?.pid !== b.containerStatus?.pid
  );
}
