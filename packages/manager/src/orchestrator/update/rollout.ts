// What kind of rollout the updater's rules (reconcile.ts) carry out. A rollout replaces the slots
// whose runnable task is not "current", through an update config, and keeps a status on the
// service. Two kinds share those rules:
// - an update (or rollback): current = runs the service's task definition; status update_status;
//   config update_config or rollback_config; a failure pauses, continues or rolls back;
// - a rebalance (../rebalance/rollout.ts): current = not one of the tasks it moves off their
//   nodes; status rebalance_status; config update_config; a failure pauses or continues.
import { UpdateFailureAction, UpdateState, type Service, type Task } from "@shoal/shared";
import { isUpToDate, serviceSpecVersion } from "../task-factory.js";
import { isRollback, rolloutConfig, updateState, type ResolvedUpdateConfig } from "./config.js";

export interface Rollout {
  /** The rollout's state (UNKNOWN: none yet). */
  state(service: Service): UpdateState;
  config(service: Service): ResolvedUpdateConfig;
  /** Whether `t` is what the rollout wants: a slot whose runnable task is not gets replaced. */
  isCurrent(t: Task, service: Service): boolean;
  /** Whether `t`, which ended on its own, was made by this rollout (its failures count). */
  madeBy(t: Task, service: Service): boolean;
  /** The service with the rollout started, when a service with outdated slots starts one by itself. */
  start(service: Service, now: number): Service | undefined;
  complete(service: Service, now: number): Service;
  /** The service once failures went past max_failure_ratio; `taskId` is the last failure. */
  fail(service: Service, taskId: string, now: number): Service;
}

export const messages = {
  updating: "update in progress",
  manualRollback: "manually requested rollback",
  completed: "update completed",
  rollbackCompleted: "rollback completed",
  paused: (taskId: string) => `update paused due to failure or early termination of task ${taskId}`,
  rollbackPaused: (taskId: string) => `rollback paused due to failure or early termination of task ${taskId}`,
  rolledBack: (taskId: string) => `update rolled back due to failure or early termination of task ${taskId}`,
  noPreviousSpec: (taskId: string) =>
    `update paused due to failure or early termination of task ${taskId}: no previous spec to roll back to`,
} as const;

/** Whether a rollout in `state` starts new slots (UPDATING or ROLLBACK_STARTED). */
export function startsSlots(state: UpdateState): boolean {
  return state === UpdateState.UPDATING || state === UpdateState.ROLLBACK_STARTED;
}

/** An update status (the same message type for updates and rebalances). */
export function status(
  previous: { startedAt?: Date | undefined } | undefined,
  state: UpdateState,
  message: string,
  now: number,
  done = false,
) {
  return {
    state,
    startedAt: startsSlots(state) ? new Date(now) : (previous?.startedAt ?? new Date(now)),
    completedAt: done ? new Date(now) : undefined,
    message,
  };
}

function withStatus(service: Service, state: UpdateState, message: string, now: number, done = false): Service {
  return { ...service, updateStatus: status(service.updateStatus, state, message, now, done) };
}

/** Rolling updates and rollbacks of the task definition. */
export const updateRollout: Rollout = {
  state: updateState,
  config: rolloutConfig,
  isCurrent: isUpToDate,
  madeBy: (t, service) => (t.specVersion?.index ?? 0) === serviceSpecVersion(service).index,
  start: (service, now) => withStatus(service, UpdateState.UPDATING, messages.updating, now),
  complete(service, now) {
    const rollback = isRollback(updateState(service));
    return withStatus(
      service,
      rollback ? UpdateState.ROLLBACK_COMPLETED : UpdateState.COMPLETED,
      rollback ? messages.rollbackCompleted : messages.completed,
      now,
      true,
    );
  },
  fail(service, taskId, now) {
    if (isRollback(updateState(service))) {
      return withStatus(service, UpdateState.ROLLBACK_PAUSED, messages.rollbackPaused(taskId), now);
    }
    if (rolloutConfig(service).failureAction !== UpdateFailureAction.ROLLBACK) {
      return withStatus(service, UpdateState.PAUSED, messages.paused(taskId), now);
    }
    if (service.previousSpec === undefined) {
      return withStatus(service, UpdateState.PAUSED, messages.noPreviousSpec(taskId), now);
    }
    return {
      ...service,
      spec: service.previousSpec,
      previousSpec: service.spec,
      specVersion: { index: serviceSpecVersion(service).index + 1 },
      updateStatus: {
        state: UpdateState.ROLLBACK_STARTED,
        startedAt: new Date(now),
        completedAt: undefined,
        message: messages.rolledBack(taskId),
      },
    };
  },
};
