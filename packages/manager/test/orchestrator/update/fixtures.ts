// Services in the middle of a rollout, for the updater's tests.
import {
  Service,
  UpdateFailureAction,
  UpdateOrder,
  UpdateState,
  durationFromMs,
  type UpdateConfig,
} from "@shoal/shared";
import { service, type ServiceOptions } from "../fixtures.js";

export interface ConfigOptions {
  readonly parallelism?: number;
  readonly delayMs?: number;
  readonly monitorMs?: number;
  readonly failureAction?: UpdateFailureAction;
  readonly maxFailureRatio?: number;
  readonly order?: UpdateOrder;
}

export function updateConfig(o: ConfigOptions = {}): UpdateConfig {
  return {
    parallelism: o.parallelism ?? 1,
    delay: o.delayMs === undefined ? undefined : durationFromMs(o.delayMs),
    failureAction: o.failureAction ?? UpdateFailureAction.PAUSE,
    monitor: o.monitorMs === undefined ? undefined : durationFromMs(o.monitorMs),
    maxFailureRatio: o.maxFailureRatio ?? 0,
    order: o.order ?? UpdateOrder.STOP_FIRST,
  };
}

export interface RolloutOptions extends ServiceOptions {
  readonly image?: string;
  readonly update?: ConfigOptions;
  readonly rollback?: ConfigOptions;
  readonly state?: UpdateState;
  readonly startedAt?: number;
  /** The image of the previous spec (default: the version 1 image). */
  readonly previousImage?: string;
}

/** The image of spec version `v`: "app:v". */
export function imageOf(v: number): string {
  return `registry:5000/app:${v}`;
}

/**
 * A service at spec version `version` (default 2) whose image is `imageOf(version)`, with the
 * previous spec (image `imageOf(version - 1)`) and the update status of a rollout under way.
 */
export function rollout(name: string, o: RolloutOptions = {}): Service {
  const version = o.version ?? 2;
  const s = service(name, { ...o, version });
  s.spec!.taskTemplate!.container!.image = o.image ?? imageOf(version);
  s.spec!.updateConfig = o.update === undefined ? undefined : updateConfig(o.update);
  s.spec!.rollbackConfig = o.rollback === undefined ? undefined : updateConfig(o.rollback);
  const previous = Service.fromPartial(s).spec!;
  previous.taskTemplate!.container!.image = o.previousImage ?? imageOf(version - 1);
  s.previousSpec = previous;
  s.updateStatus = {
    state: o.state ?? UpdateState.UPDATING,
    startedAt: new Date(o.startedAt ?? 0),
    completedAt: undefined,
    message: "update in progress",
  };
  return s;
}

/** The same service as it was at spec version `version`, with image `imageOf(version)`. */
export function atVersion(svc: Service, version: number): Service {
  const s = Service.fromPartial(svc);
  s.specVersion = { index: version };
  s.spec!.taskTemplate!.container!.image = imageOf(version);
  return s;
}
