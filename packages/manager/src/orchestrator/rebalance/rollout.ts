// A rebalance, carried out by the updater's rules (../update/reconcile.ts) as a rollout of its own.
//
// A rebalance is started (RebalanceService, or the automatic rebalancer) by writing the service's
// rebalance_status: UPDATING, started now, with the tasks to move off their nodes (task_ids, from
// the scheduler's planRebalance). From then on, in the store alone (a new leader carries on):
// - a listed task is "moving off": the rollout replaces its slot, through the service's
//   update_config (parallelism, delay, monitor, failure action, order). The new task in the slot
//   is made like any other (no node): the scheduler places it where the spread wants it now, which
//   is where planRebalance found room (stop-first: the old task has stopped, so its node counts one
//   task less; start-first: it still counts, so its node is less wanted still);
// - a failure (a task the rebalance made that ends on its own before running or within
//   `monitor`) past max_failure_ratio pauses it (PAUSED), whatever the failure action: there is
//   no spec to roll back to. Slots in flight are finished, as in an update;
// - `moved` counts the listed tasks no longer wanted; once no slot is left, COMPLETED, and the list
//   is cleared;
// - an update of the task definition supersedes it: PAUSED, "interrupted" (the update's new tasks
//   are placed by the scheduler, which spreads them anyway).
import { UpdateState, type Service, type Task } from "@shoal/shared";
import { Plan } from "../plan.js";
import { desiredReplicas, isUpToDate } from "../task-factory.js";
import { createdAt, isLive, isRunnable } from "../task-states.js";
import { isRollingOut, resolveUpdateConfig, updateState } from "../update/config.js";
import { planUpdate, type UpdateDecision, type UpdateInput } from "../update/reconcile.js";
import { status, type Rollout } from "../update/rollout.js";
import { isMovingOff, movingOffIds } from "./moving-off.js";

export const rebalanceMessages = {
  started: (n: number) => `rebalance in progress: ${n} task${n === 1 ? "" : "s"} to move`,
  auto: (n: number, node: string) =>
    `automatic rebalance in progress (node ${node} ready): ${n} task${n === 1 ? "" : "s"} to move`,
  completed: "rebalance completed",
  paused: (taskId: string) => `rebalance paused due to failure or early termination of task ${taskId}`,
  interrupted: "rebalance interrupted: the service is being updated",
} as const;

export function rebalanceState(service: Service): UpdateState {
  return service.rebalanceStatus?.state ?? UpdateState.UNKNOWN;
}

function withRebalanceStatus(service: Service, state: UpdateState, message: string, now: number, done = false) {
  const previous = service.rebalanceStatus;
  return {
    ...service,
    rebalanceStatus: {
      ...status(previous, state, message, now, done),
      moved: previous?.moved ?? 0,
      taskIds: done ? [] : (previous?.taskIds ?? []),
    },
  };
}

export const rebalanceRollout: Rollout = {
  state: rebalanceState,
  config: (service) => resolveUpdateConfig(service.spec?.updateConfig),
  isCurrent: (t, service) => !isMovingOff(t, service),
  madeBy: (t, service) =>
    !isMovingOff(t, service) && createdAt(t) >= (service.rebalanceStatus?.startedAt?.getTime() ?? Infinity),
  start: () => undefined, // only RebalanceService and the automatic rebalancer start one
  complete: (service, now) =>
    withRebalanceStatus(service, UpdateState.COMPLETED, rebalanceMessages.completed, now, true),
  fail: (service, taskId, now) =>
    withRebalanceStatus(service, UpdateState.PAUSED, rebalanceMessages.paused(taskId), now),
};

/** Whether a rebalance may run on the service now: replicated, no update under way or unfinished. */
export function updateInTheWay(service: Service, tasks: readonly Task[]): boolean {
  if (service.spec?.mode !== undefined && service.spec.mode.$case !== "replicated") return true;
  if (isRollingOut(updateState(service))) return true;
  return tasks.some((t) => t.slot > 0 && isRunnable(t) && !isUpToDate(t, service));
}

/** The rebalance's decision for one service (nothing when none is under way or paused). */
export function planRebalanceRollout(input: UpdateInput): UpdateDecision {
  let service = input.service;
  const state = rebalanceState(service);
  if (state !== UpdateState.UPDATING && state !== UpdateState.PAUSED) {
    return { plan: new Plan(), service: undefined, wakeAt: undefined, busy: false };
  }
  let changed = false;
  const ids = movingOffIds(service);
  const live = new Set(input.tasks.filter(isLive).map((t) => t.id));
  let moved = 0;
  for (const id of ids) if (!live.has(id)) moved++;
  if (moved !== (service.rebalanceStatus?.moved ?? 0)) {
    service = { ...service, rebalanceStatus: { ...service.rebalanceStatus!, moved } };
    changed = true;
  }
  if (state === UpdateState.UPDATING && (updateInTheWay(service, input.tasks) || desiredReplicas(service) === 0)) {
    service = withRebalanceStatus(service, UpdateState.PAUSED, rebalanceMessages.interrupted, input.now);
    changed = true;
  }
  const decision = planUpdate({ ...input, service }, rebalanceRollout);
  return { ...decision, service: decision.service ?? (changed ? service : undefined) };
}
