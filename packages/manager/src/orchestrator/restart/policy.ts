// The restart policy of a task, as Docker Swarm applies it: whether a task that ended (or must be
// replaced) gets a successor in its slot, and after how long.
//
// - condition: ANY (the default) restarts however the task ended; ON_FAILURE not when it
//   completed (exit 0); NONE never.
// - delay: between the end of the task and the start of its successor; default 5 s.
// - max attempts within a window: restarts of the slot counted over the window (an unset or zero
//   window: over the life of the slot); 0 attempts means unlimited.
//
// Attempts are read from the slot's history in the store, not kept in memory, so a new leader
// counts them as the old one did: the restarts of a slot are its tasks made from the same spec
// version as the task that ended, up to and including that one, except the first (made when the
// slot was filled). A new spec version starts the count again, as in SwarmKit. The reaper keeps
// at least max attempts + 1 finished tasks per slot so the count stays right (see reaper/).
// A job's task that completed is never restarted, whatever the condition (as SwarmKit: ANY is
// read as ON_FAILURE for jobs); its restarts are counted within its run (the job iteration).
// Times are the store's (meta.createdAt of each restart, meta.updatedAt of the task that ended),
// so the answer for a slot does not change with the clock of whoever asks.
import { RestartCondition, TaskState, durationToMs, type RestartPolicy, type Task } from "@shoal/shared";
import { compareCreation, createdAt, isRemoved, statusState, updatedAt } from "../task-states.js";

export const DEFAULT_RESTART_DELAY_MS = 5_000;

export interface ResolvedRestartPolicy {
  readonly condition: RestartCondition;
  readonly delayMs: number;
  /** 0: unlimited. */
  readonly maxAttempts: number;
  /** 0: the life of the slot. */
  readonly windowMs: number;
}

/** The policy with its defaults filled in. */
export function resolveRestartPolicy(policy: RestartPolicy | undefined): ResolvedRestartPolicy {
  return {
    condition: policy?.condition ?? RestartCondition.ANY,
    delayMs: Math.max(0, durationToMs(policy?.delay, DEFAULT_RESTART_DELAY_MS)),
    maxAttempts: policy?.maxAttempts ?? 0,
    windowMs: Math.max(0, durationToMs(policy?.window, 0)),
  };
}

/** The policy a task carries (its own spec's, as when it was made). */
export function taskRestartPolicy(t: Task): ResolvedRestartPolicy {
  return resolveRestartPolicy(t.spec?.restartPolicy);
}

/** Whether the condition allows a successor for `t` (a task still running counts as failed). */
export function conditionAllows(t: Task, condition: RestartCondition): boolean {
  if (t.jobIteration !== undefined && statusState(t) === TaskState.COMPLETE) return false;
  switch (condition) {
    case RestartCondition.NONE:
      return false;
    case RestartCondition.ON_FAILURE:
      return statusState(t) !== TaskState.COMPLETE;
    default:
      return true;
  }
}

/**
 * Restarts counted against `t`'s policy: in `slotTasks` (every task of its slot), the tasks of
 * `t`'s spec version made no later than `t`, but the first, and within the window before `t`'s
 * last write when there is a window.
 */
export function countRestarts(t: Task, slotTasks: readonly Task[]): number {
  const version = t.specVersion?.index ?? 0;
  const iteration = t.jobIteration?.index;
  const same = slotTasks
    .filter(
      (x) =>
        !isRemoved(x) &&
        (x.specVersion?.index ?? 0) === version &&
        x.jobIteration?.index === iteration &&
        compareCreation(x, t) <= 0,
    )
    .sort(compareCreation);
  if (!same.some((x) => x.id === t.id)) same.push(t);
  const restarts = same.slice(1);
  const { windowMs } = taskRestartPolicy(t);
  if (windowMs <= 0) return restarts.length;
  const since = updatedAt(t) - windowMs;
  return restarts.filter((x) => createdAt(x) > since).length;
}

/** Whether `t`, which ended, gets a successor in its slot under its restart policy. */
export function shouldRestart(t: Task, slotTasks: readonly Task[]): boolean {
  const policy = taskRestartPolicy(t);
  if (!conditionAllows(t, policy.condition)) return false;
  return policy.maxAttempts === 0 || countRestarts(t, slotTasks) < policy.maxAttempts;
}
