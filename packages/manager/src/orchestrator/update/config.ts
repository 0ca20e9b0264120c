// The update config of a rollout with its defaults filled in, and the words about update states.
//
// A rollout is an update (update_config) or a rollback (rollback_config), told apart by the
// service's update status: ROLLBACK_STARTED or ROLLBACK_PAUSED use the rollback config. An unset
// config means Docker's defaults: parallelism 1, no delay, pause on failure, monitor 5 s, max
// failure ratio 0, stop-first. Within a config that is set, parallelism 0 means all at once and
// an unset monitor 5 s.
import {
  UpdateFailureAction,
  UpdateOrder,
  UpdateState,
  durationToMs,
  type Service,
  type UpdateConfig,
} from "@shoal/shared";

export const DEFAULT_MONITOR_MS = 5_000;

export interface ResolvedUpdateConfig {
  /** Slots in flight at once; Infinity for all at once. */
  readonly parallelism: number;
  readonly delayMs: number;
  readonly monitorMs: number;
  readonly failureAction: UpdateFailureAction;
  readonly maxFailureRatio: number;
  readonly order: UpdateOrder;
}

export function resolveUpdateConfig(config: UpdateConfig | undefined): ResolvedUpdateConfig {
  if (config === undefined) {
    return {
      parallelism: 1,
      delayMs: 0,
      monitorMs: DEFAULT_MONITOR_MS,
      failureAction: UpdateFailureAction.PAUSE,
      maxFailureRatio: 0,
      order: UpdateOrder.STOP_FIRST,
    };
  }
  return {
    parallelism: config.parallelism > 0 ? config.parallelism : Infinity,
    delayMs: Math.max(0, durationToMs(config.delay, 0)),
    monitorMs: Math.max(0, durationToMs(config.monitor, DEFAULT_MONITOR_MS)),
    failureAction: config.failureAction,
    maxFailureRatio: Math.min(1, Math.max(0, config.maxFailureRatio)),
    order: config.order,
  };
}

export function updateState(service: Service): UpdateState {
  return service.updateStatus?.state ?? UpdateState.UNKNOWN;
}

/** Whether the service's last rollout is a rollback (started, paused or completed). */
export function isRollback(state: UpdateState): boolean {
  return (
    state === UpdateState.ROLLBACK_STARTED ||
    state === UpdateState.ROLLBACK_PAUSED ||
    state === UpdateState.ROLLBACK_COMPLETED
  );
}

/** Whether a rollout is under way: the updater starts new slots only then. */
export function isRollingOut(state: UpdateState): boolean {
  return state === UpdateState.UPDATING || state === UpdateState.ROLLBACK_STARTED;
}

export function isPaused(state: UpdateState): boolean {
  return state === UpdateState.PAUSED || state === UpdateState.ROLLBACK_PAUSED;
}

/** The config the service's current (or next) rollout uses. */
export function rolloutConfig(service: Service): ResolvedUpdateConfig {
  const spec = service.spec;
  return resolveUpdateConfig(isRollback(updateState(service)) ? spec?.rollbackConfig : spec?.updateConfig);
}
