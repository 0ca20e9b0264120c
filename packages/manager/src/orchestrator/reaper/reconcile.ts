// The task reaper's decisions, as pure functions: which tasks leave the store.
//
// - A removed task (desired state REMOVE: its service is gone, or its slot was scaled down, or its
//   global node is no longer eligible) is deleted once it has ended, at once if it never reached
//   an agent (status before ASSIGNED, or no node), and at once if its node is gone from the store
//   (nobody is left to report on it).
// - History: of the finished tasks of a slot (a job's slot over all its runs) (desired state past RUNNING, ended or never
//   assigned), the newest `keep` stay and older ones are deleted. `keep` is the cluster's
//   task_history_retention_limit (0: the default, 5), raised to max attempts + 1 when a task of
//   the slot has a restart policy with max attempts, because the restart supervisor counts
//   attempts from that history (as SwarmKit's reaper does). Live tasks never count and are never
//   deleted here. Unlike SwarmKit, which counts the slot's running task among the 5, the limit
//   is on ended tasks, as ClusterSpec documents it.
import type { Cluster, Service, Task } from "@shoal/shared";
import { TaskState } from "@shoal/shared";
import { Plan } from "../plan.js";
import { taskRestartPolicy } from "../restart/policy.js";
import { compareCreation, hasEnded, isFinished, isRemoved, statusState } from "../task-states.js";

export const DEFAULT_TASK_HISTORY_LIMIT = 5;

/** The cluster's history limit, with the default for 0 or no cluster. */
export function historyLimit(cluster: Cluster | undefined): number {
  const limit = cluster?.spec?.orchestration?.taskHistoryRetentionLimit ?? 0;
  return limit > 0 ? limit : DEFAULT_TASK_HISTORY_LIMIT;
}

/** Whether a removed task may be deleted now. */
export function removable(t: Task, nodeExists: (id: string) => boolean): boolean {
  return (
    isRemoved(t) && (hasEnded(t) || statusState(t) < TaskState.ASSIGNED || t.nodeId === "" || !nodeExists(t.nodeId))
  );
}

/** Finished tasks of one slot to keep: the limit, or max attempts + 1 if that is more. */
export function historyToKeep(limit: number, tasks: readonly Task[], service: Service | undefined): number {
  let attempts = service?.spec?.taskTemplate?.restartPolicy?.maxAttempts ?? 0;
  for (const t of tasks) attempts = Math.max(attempts, taskRestartPolicy(t).maxAttempts);
  return attempts > 0 ? Math.max(limit, attempts + 1) : limit;
}

/** Deletes the oldest finished tasks of one slot beyond `keep`. */
export function planHistory(tasks: readonly Task[], keep: number, plan: Plan = new Plan()): Plan {
  const finished = tasks.filter(isFinished).sort(compareCreation);
  for (const t of finished.slice(0, Math.max(0, finished.length - keep))) plan.delete(t.id);
  return plan;
}
