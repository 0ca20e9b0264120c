// A job's progress as `docker service ls` shows it (REPLICAS "3/3 (4/10 completed)"), after
// SwarmKit's ListServiceStatuses: only tasks of the current run count. A replicated job wants
// max_concurrent tasks running and total_completions completed; a global job wants its tasks
// that have not completed yet running, and all of its tasks completed.
import { TaskState, type Service, type Task } from "@shoal/shared";
import { isJobService, isPerNode, jobIteration, replicatedJobCounts } from "../task-factory.js";
import { isLive, isRemoved, iterationOf, statusState } from "../task-states.js";

export interface JobProgress {
  readonly running: number;
  readonly desired: number;
  readonly completed: number;
  /** Completions the run needs. */
  readonly total: number;
}

/** The progress of `service`'s current run from `tasks` (any tasks; others are ignored); undefined for a service. */
export function jobProgress(service: Service, tasks: readonly Task[]): JobProgress | undefined {
  if (!isJobService(service)) return undefined;
  const iteration = jobIteration(service);
  const mine = tasks.filter((t) => t.serviceId === service.id && iterationOf(t) === iteration && !isRemoved(t));
  const running = mine.filter((t) => statusState(t) === TaskState.RUNNING).length;
  const completed = mine.filter((t) => statusState(t) === TaskState.COMPLETE).length;
  if (isPerNode(service)) {
    const desired = mine.filter((t) => isLive(t) && statusState(t) !== TaskState.COMPLETE).length;
    return { running, desired, completed, total: desired + completed };
  }
  const counts = replicatedJobCounts(service.spec) ?? { total: 1, maxConcurrent: 1 };
  return { running, desired: counts.maxConcurrent, completed, total: counts.total };
}

/** REPLICAS as `docker service ls` prints a job's: "running/desired (completed/total completed)". */
export function jobProgressText(p: JobProgress): string {
  return `${p.running}/${p.desired} (${p.completed}/${p.total} completed)`;
}
