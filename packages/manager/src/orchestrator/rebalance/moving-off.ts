// Which tasks a rebalance under way (or paused) moves off their nodes: the ids its status lists.
// The updater's rules replace their slots; the orchestrators keep such a task next to its
// replacement while the rebalance runs start-first (update/replacement.ts: extraRunnable).
import { UpdateState, type Service, type Task } from "@shoal/shared";

const lists = new WeakMap<Service, ReadonlySet<string>>();
const EMPTY: ReadonlySet<string> = new Set();

/** The tasks the service's rebalance moves off their nodes (none once it completed). */
export function movingOffIds(service: Service): ReadonlySet<string> {
  const s = service.rebalanceStatus;
  if (s === undefined || s.taskIds.length === 0 || s.state === UpdateState.COMPLETED) return EMPTY;
  let set = lists.get(service);
  if (set === undefined) lists.set(service, (set = new Set(s.taskIds)));
  return set;
}

/** Whether `t` is one of the tasks the service's rebalance moves off their nodes. */
export function isMovingOff(t: Task, service: Service): boolean {
  return movingOffIds(service).has(t.id);
}
