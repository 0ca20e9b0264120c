// The restart supervisor's decisions for a set of slots, as a pure function.
//
// For each slot (a replicated slot number, or a global service's node):
// 1. Its live tasks that ended, and (replicated only) its live tasks on a lost node (gone, DOWN,
//    drained), are shut down: desired state SHUTDOWN. The old task stays in the store as history.
// 2. If the slot still has a runnable task, that is all: never two runnable tasks in one slot.
// 3. Otherwise the latest of the tasks shut down gets a successor in the same slot, made from the
//    service's current spec:
//    - a task moved off a lost node: at once, whatever its restart policy (a move, not a restart;
//      the issue wants drained and down nodes' tasks elsewhere without delay);
//    - a task that ended on a lost node: at once, if its restart policy allows one;
//    - a task that ended otherwise: if its policy allows one, after its restart delay.
// 4. A slot with no live task whose latest task was shut down before it ended on its own belongs
//    to the updater, which is replacing it stop-first (see update/replacement.ts).
//    Otherwise, a slot with no live task whose latest task is shut down and whose policy allows a
//    restart is waiting for its successor: created when the delay has passed since that task's last write
//    (the shutdown), or at once if that is already past. This is how a restart survives a leader
//    change, and how the delay is kept without holding the slot in memory.
// Jobs: a task that completed gets no successor (policy.ts). A slot of an older run of the job
// (its iteration is not the service's current one) gets none either: its tasks that ended are
// shut down and that is all (the job orchestrator shuts down the live ones, or, with schedule
// overlap ALLOW, leaves them to finish).
// Global slots get a successor only on a node that accepts new tasks (up, ACTIVE, constraints
// met); a slot on a paused or down node waits, and node events bring it back here.
import { TaskState, type Node, type Service, type Task } from "@shoal/shared";
import { Plan } from "../plan.js";
import { acceptsNewTask, nodeLost, type NodeMatcher } from "../node-checks.js";
import { isJobService, isPerNode, jobIteration, newTask } from "../task-factory.js";
import { hasEnded, history, isLive, isRemoved, slotKey, slotOf, updatedAt, type SlotRef } from "../task-states.js";
import { stoppedForUpdate } from "../update/replacement.js";
import { shouldRestart, taskRestartPolicy } from "./policy.js";

export interface RestartSlot {
  readonly ref: SlotRef;
  /** Every task of the slot (removed ones included; they are ignored). */
  readonly tasks: readonly Task[];
}

export interface RestartInput {
  /** Services by id (a slot whose service is gone is left to the orchestrators). */
  readonly service: (id: string) => Service | undefined;
  readonly node: (id: string) => Node | undefined;
  readonly nodeMatches: NodeMatcher;
  readonly now: number;
  /** When successors already scheduled are due, by slot key (kept across passes). */
  readonly due: ReadonlyMap<string, number>;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

/** A slot waiting for its successor, due at `due` (ms). */
export interface SlotWake {
  readonly ref: SlotRef;
  readonly due: number;
}

export interface RestartDecision {
  readonly plan: Plan;
  /** Slots waiting for a successor, by slot key. */
  readonly wake: Map<string, SlotWake>;
}

export function planRestarts(input: RestartInput, slots: Iterable<RestartSlot>): RestartDecision {
  const plan = new Plan();
  const wake = new Map<string, SlotWake>();
  for (const slot of slots) planSlot(input, slot, plan, wake);
  return { plan, wake };
}

function planSlot(input: RestartInput, { ref, tasks }: RestartSlot, plan: Plan, wake: Map<string, SlotWake>): void {
  const service = input.service(ref.serviceId);
  if (service === undefined) return;
  const global = ref.nodeId !== undefined;
  if (global !== isPerNode(service)) return; // left over from another mode: the orchestrators remove it
  if ((ref.iteration !== undefined) !== isJobService(service)) return;
  const stale = ref.iteration !== undefined && ref.iteration !== jobIteration(service);
  const key = slotKey(ref);
  const lost = (t: Task): boolean => t.nodeId !== "" && nodeLost(input.node(t.nodeId));
  const hist = history(tasks);
  const live = hist.filter(isLive);
  const leaving = live.filter((t) => hasEnded(t) || (!global && lost(t)));
  for (const t of leaving) plan.raise(t.id, TaskState.SHUTDOWN);
  if (live.length > leaving.length || stale) return; // a runnable task fills the slot, or an older run

  const successor = (): Task => {
    const target = global ? { nodeId: ref.nodeId } : { slot: ref.slot };
    return newTask(service, target, input.now, input.newId?.());
  };
  const canPlace = (): boolean =>
    !global || acceptsNewTask(input.node(ref.nodeId), service.spec?.taskTemplate, input.nodeMatches);

  const last = leaving[leaving.length - 1];
  if (last !== undefined) {
    const moved = !hasEnded(last) && lost(last);
    if (!moved && !shouldRestart(last, tasks)) return;
    if (lost(last)) {
      if (canPlace()) plan.create(successor(), "successor");
      return;
    }
    const delay = taskRestartPolicy(last).delayMs;
    const due = input.due.get(key) ?? clamp(updatedAt(last) + delay, input.now, input.now + delay);
    if (due > input.now) wake.set(key, { ref, due });
    else if (canPlace()) plan.create(successor(), "successor");
    return;
  }

  // No live task: is the latest one waiting for a successor?
  const latest = hist[hist.length - 1];
  if (latest === undefined || stoppedForUpdate(latest) || !shouldRestart(latest, tasks)) return;
  const delay = taskRestartPolicy(latest).delayMs;
  const due = input.due.get(key) ?? clamp(updatedAt(latest) + delay, input.now, input.now + delay);
  if (due > input.now) wake.set(key, { ref, due });
  else if (canPlace()) plan.create(successor(), "successor");
}

/**
 * The slots among `tasks` that planSlot could act on: those with a live task that ended or, for a
 * replicated slot, sits on a lost node; and those with no live task but some history (a successor
 * may be due). Every other slot has a runnable task and nothing leaving: planSlot returns at once.
 * One pass without copies or per-task strings, so that a leader's first pass over 100,000 healthy
 * tasks groups none of them.
 */
export function restartCandidates(tasks: Iterable<Task>, lost: (nodeId: string) => boolean): Map<string, SlotRef> {
  /** Per service (and job iteration): the slot numbers or nodes that hold a live task. */
  const withLive = new Map<string, Set<number | string>>();
  const liveIn = (t: Task): Set<number | string> => {
    const key = t.jobIteration === undefined ? t.serviceId : `${t.serviceId}#${t.jobIteration.index}`;
    let set = withLive.get(key);
    if (set === undefined) withLive.set(key, (set = new Set()));
    return set;
  };
  const leaving = new Map<string, SlotRef>();
  const history: Task[] = [];
  for (const t of tasks) {
    if (isRemoved(t) || (t.slot === 0 && t.nodeId === "")) continue;
    if (!isLive(t)) {
      history.push(t);
      continue;
    }
    liveIn(t).add(t.slot > 0 ? t.slot : t.nodeId);
    if (hasEnded(t) || (t.slot > 0 && t.nodeId !== "" && lost(t.nodeId))) {
      const ref = slotOf(t)!;
      leaving.set(slotKey(ref), ref);
    }
  }
  for (const t of history) {
    if (liveIn(t).has(t.slot > 0 ? t.slot : t.nodeId)) continue;
    const ref = slotOf(t)!;
    leaving.set(slotKey(ref), ref);
  }
  return leaving;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
