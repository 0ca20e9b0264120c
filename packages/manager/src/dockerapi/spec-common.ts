// What both directions of the Docker <-> Shoal service spec translation share (service-spec.ts,
// docker-service-spec.ts): the reserved label, Docker's defaults, the enum tables, and the number
// and object helpers.
import {
  InvalidArgumentError,
  PortProtocol,
  PublishMode,
  RestartCondition,
  UpdateFailureAction,
  UpdateOrder,
  type Duration,
} from "@shoal/shared";

export const UNMAPPED_LABEL = "com.shoal.docker.unmapped";

export const NS_PER_S = 1_000_000_000;
export const DEFAULT_STOP_GRACE_NS = 10 * NS_PER_S;
export const DEFAULT_RESTART_DELAY_NS = 5 * NS_PER_S;
export const DEFAULT_MONITOR_NS = 5 * NS_PER_S;

// ---- enum tables ---------------------------------------------------------------------------

function invert<K extends string, V>(table: Record<K, V>): Map<V, K> {
  return new Map((Object.entries(table) as [K, V][]).map(([k, v]) => [v, k]));
}

export const CONDITIONS = {
  any: RestartCondition.ANY,
  "on-failure": RestartCondition.ON_FAILURE,
  none: RestartCondition.NONE,
} as const;
export const FAILURE_ACTIONS = {
  pause: UpdateFailureAction.PAUSE,
  continue: UpdateFailureAction.CONTINUE,
  rollback: UpdateFailureAction.ROLLBACK,
} as const;
export const ORDERS = { "stop-first": UpdateOrder.STOP_FIRST, "start-first": UpdateOrder.START_FIRST } as const;
export const PROTOCOLS = { tcp: PortProtocol.TCP, udp: PortProtocol.UDP } as const;
export const PUBLISH_MODES = { ingress: PublishMode.INGRESS, host: PublishMode.HOST } as const;

export const CONDITION_NAMES = invert(CONDITIONS);
export const FAILURE_ACTION_NAMES = invert(FAILURE_ACTIONS);
export const ORDER_NAMES = invert(ORDERS);
export const PROTOCOL_NAMES = invert(PROTOCOLS);
export const PUBLISH_MODE_NAMES = invert(PUBLISH_MODES);

export function pick<T>(table: Record<string, T>, value: string, field: string): T {
  const found = Object.hasOwn(table, value) ? table[value] : undefined;
  if (found === undefined) {
    throw new InvalidArgumentError(`"${value}" is not one of ${Object.keys(table).join(", ")}`, { field });
  }
  return found;
}

// ---- numbers and durations ----------------------------------------------------------------

export function whole(value: number | undefined, field: string): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`must be a whole number of at least 0, not ${n}`, { field });
  }
  return n;
}

export function duration(ns: number | undefined, field: string): Duration | undefined {
  if (ns === undefined || ns === null) return undefined;
  const n = whole(ns, field);
  return { seconds: Math.floor(n / NS_PER_S), nanos: n % NS_PER_S };
}

export function nanos(d: Duration | undefined): number | undefined {
  return d === undefined ? undefined : d.seconds * NS_PER_S + d.nanos;
}

/** Copies the entries whose value is not undefined (Docker omits empty fields). */
export function defined<R>(o: Record<string, unknown>): R {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;
}

export const nonZero = (n: number | undefined): number | undefined => (n ? n : undefined);
export const nonEmpty = <T>(a: readonly T[] | undefined): T[] | undefined => (a && a.length > 0 ? [...a] : undefined);

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Merges `extra` under `base`: base's values win, extra fills in what base lacks. */
export function mergeUnder(base: Record<string, unknown>, extra: unknown): Record<string, unknown> {
  if (!isRecord(extra)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    if (b === undefined) out[k] = v;
    else if (isRecord(b) && isRecord(v)) out[k] = mergeUnder(b, v);
  }
  return out;
}
