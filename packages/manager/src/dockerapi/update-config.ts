// A service's UpdateConfig and RollbackConfig (the same shape): Docker's <-> Shoal's, checked
// on the way in; on the way out, Swarm's defaults when asked for them.
import { InvalidArgumentError, UpdateFailureAction, UpdateOrder, type UpdateConfig } from "@shoal/shared";
import type { DockerUpdateConfig } from "./docker-types.js";
import { shortestFloat32 } from "./float32.js";
import { NS_PER_S, defined, duration, invert, nanos, nonZero, pick, whole } from "./spec-values.js";

const DEFAULT_MONITOR_NS = 5 * NS_PER_S;

const FAILURE_ACTIONS = {
  pause: UpdateFailureAction.PAUSE,
  continue: UpdateFailureAction.CONTINUE,
  rollback: UpdateFailureAction.ROLLBACK,
} as const;
const ORDERS = { "stop-first": UpdateOrder.STOP_FIRST, "start-first": UpdateOrder.START_FIRST } as const;

const FAILURE_ACTION_NAMES = invert(FAILURE_ACTIONS);
const ORDER_NAMES = invert(ORDERS);

/** Docker's UpdateConfig (or RollbackConfig, named by `field`) as Shoal's. Throws InvalidArgumentError. */
export function fromDockerUpdateConfig(
  u: DockerUpdateConfig | null | undefined,
  field: string,
): UpdateConfig | undefined {
  if (!u) return undefined;
  const ratio = u.MaxFailureRatio ?? 0;
  if (ratio < 0 || ratio > 1) {
    throw new InvalidArgumentError(`must be from 0 to 1, not ${ratio}`, { field: `${field}.MaxFailureRatio` });
  }
  return {
    parallelism: whole(u.Parallelism, `${field}.Parallelism`),
    delay: duration(u.Delay, `${field}.Delay`),
    failureAction: pick(FAILURE_ACTIONS, u.FailureAction || "pause", `${field}.FailureAction`),
    monitor: duration(u.Monitor, `${field}.Monitor`),
    maxFailureRatio: ratio,
    order: pick(ORDERS, u.Order || "stop-first", `${field}.Order`),
  };
}

/** Shoal's UpdateConfig as Docker's; with `insertDefaults`, Swarm's defaults fill what is unset. */
export function toDockerUpdateConfig(
  u: UpdateConfig | undefined,
  insertDefaults: boolean,
): DockerUpdateConfig | undefined {
  if (!u) {
    if (!insertDefaults) return undefined;
    return {
      Parallelism: 1,
      FailureAction: "pause",
      Monitor: DEFAULT_MONITOR_NS,
      MaxFailureRatio: 0,
      Order: "stop-first",
    };
  }
  return defined({
    Parallelism: u.parallelism,
    Delay: nonZero(nanos(u.delay)),
    FailureAction: FAILURE_ACTION_NAMES.get(u.failureAction) ?? "pause",
    Monitor: nanos(u.monitor) ?? (insertDefaults ? DEFAULT_MONITOR_NS : undefined),
    // A float32 in the proto: given back as Docker writes it (0.4, not 0.4000000059604645).
    MaxFailureRatio: shortestFloat32(u.maxFailureRatio),
    Order: ORDER_NAMES.get(u.order) ?? "stop-first",
  });
}
