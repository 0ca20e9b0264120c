// What the updater and the restart supervisor agree on about a slot the updater is replacing.
//
// Stop-first, the updater first shuts the slot's old task down and makes the new one only once
// the old one has stopped. Meanwhile the slot has no live task, like a slot waiting for a
// restart; what tells them apart, in the store alone (so a new leader sees it too), is the
// latest task: it was shut down before it ended on its own (its status is still below an end,
// or SHUTDOWN, which the agent reports only for a task it was asked to stop). No one else leaves
// a slot so: the restart supervisor shuts down tasks that ended, or moves a task off a lost node
// with its successor in the same write; the orchestrators shut down extras next to a runnable
// task, or remove whole slots. The restart supervisor leaves such a slot to the updater, which
// fills it whatever the update's state (a paused update still finishes the slots it started),
// from the current spec (after an automatic rollback, that is the old task's spec again).
import { TaskState, type Node, type Service, type Task } from "@shoal/shared";
import { nodeLost } from "../node-checks.js";
import { isMovingOff } from "../rebalance/moving-off.js";
import { isUpToDate } from "../task-factory.js";
import { compareCreation, hasEnded, isLive, isRemoved, isRunnable, statusState } from "../task-states.js";

/** Whether `t`, the latest task of a slot without a live task, was shut down to be replaced. */
export function stoppedForUpdate(t: Task): boolean {
  if (isLive(t) || isRemoved(t)) return false;
  return !hasEnded(t) || statusState(t) === TaskState.SHUTDOWN;
}

/**
 * Whether a task that is no longer wanted has stopped: it ended, never reached a node, or its
 * node is lost (gone, DOWN or drained: no one is left to report that it stopped).
 */
export function hasStopped(t: Task, node: (id: string) => Node | undefined): boolean {
  return hasEnded(t) || statusState(t) < TaskState.ASSIGNED || t.nodeId === "" || nodeLost(node(t.nodeId));
}

/**
 * The runnable tasks of one slot (its history) that should not be there, to shut down: a slot
 * keeps one runnable task, the most advanced (then the newest), except while the updater replaces
 * it start-first, when it keeps the most advanced up-to-date task and the most advanced old one
 * (the updater shuts the old one down once the new one runs). A task a rebalance moves off its
 * node counts as old (../rebalance/moving-off.ts).
 */
export function extraRunnable(hist: readonly Task[], service: Service): Task[] {
  const runnable = hist.filter(isRunnable).sort(byAdvancement);
  const current = (t: Task): boolean => isUpToDate(t, service) && !isMovingOff(t, service);
  const fresh = runnable.find(current);
  if (fresh === undefined) return runnable.slice(1);
  const old = runnable.find((t) => !current(t));
  return runnable.filter((t) => t !== fresh && t !== old);
}

/** Most advanced first (RUNNING before STARTING before PENDING), then the newest. */
export function byAdvancement(a: Task, b: Task): number {
  return statusState(b) - statusState(a) || compareCreation(b, a);
}
