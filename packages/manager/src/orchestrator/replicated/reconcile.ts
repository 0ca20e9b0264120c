// The replicated orchestrator's decisions for one service, as a pure function.
//
// A replicated service owns the slot numbers its tasks carry. A slot exists while it has a task
// that is not removed (desired state below REMOVE): a runnable task, a task that ended and waits
// for the restart supervisor, or history whose latest task will not be restarted (restart
// condition none, say: as in Swarm, that slot stays, and the service shows fewer running tasks).
// Successors within a slot are the restart supervisor's business; this reconciler only:
// - fills slots up to `replicas`, lowest free numbers first, with new tasks (status NEW, no
//   node: the scheduler places them);
// - on scale down, removes whole slots: every task of the slot gets desired state REMOVE (the
//   agent stops it, the reaper deletes it once ended), as SwarmKit does, so a scaled-down slot
//   leaves no history behind and is not restarted. Slots go in this order: those without a
//   runnable task, then those whose task has no node yet, then assigned ones, a node's
//   highest-numbered copies of the service first (to keep the spread even), the least advanced
//   first; ties: the highest slot number first;
// - keeps one runnable task per slot: extras (which only a bug or a race could make) are shut
//   down, keeping the most advanced one (then the newest); while the updater replaces a slot
//   start-first, its new task and the old one both stay (see update/replacement.ts).
// It only touches tasks with a slot number; tasks with none (slot 0) are the global
// orchestrator's, and a job's tasks are the job orchestrator's (jobs/) while the job exists. A service that is gone, or that became global, has its replicated tasks removed
// (planRemovedTasks).
import { TaskState, type Service, type Task } from "@shoal/shared";
import { Plan } from "../plan.js";
import { desiredReplicas, isGlobalService, isJobService, newTask } from "../task-factory.js";
import { history, isRemoved, isRunnable, statusState } from "../task-states.js";
import { byAdvancement, extraRunnable } from "../update/replacement.js";

export interface ReplicatedInput {
  readonly service: Service;
  /** Every task of the service. */
  readonly tasks: readonly Task[];
  readonly now: number;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
  /** At most this many new tasks in one plan (the rest in the next); default: no bound. */
  readonly maxNew?: number | undefined;
}

/** Whether the replicated orchestrator owns `t` (a task with a slot number). */
export function isReplicatedTask(t: Task): boolean {
  return t.slot > 0;
}

/** Desired state REMOVE for each of `tasks` that is not removed yet. */
export function planRemovedTasks(tasks: Iterable<Task>, plan: Plan = new Plan()): Plan {
  for (const t of tasks) if (!isRemoved(t)) plan.raise(t.id, TaskState.REMOVE);
  return plan;
}

interface SlotView {
  readonly slot: number;
  /** Its tasks that are not removed, oldest first. */
  readonly tasks: Task[];
  /** The runnable task kept in the slot, if any. */
  readonly runnable: Task | undefined;
}

export function planReplicated(input: ReplicatedInput, plan: Plan = new Plan()): Plan {
  const { service } = input;
  if (isJobService(service)) return plan; // the job orchestrator's (jobs/)
  if (isGlobalService(service)) return planRemovedTasks(input.tasks.filter(isReplicatedTask), plan);

  const bySlot = new Map<number, Task[]>();
  for (const t of input.tasks) {
    if (!isReplicatedTask(t) || isRemoved(t)) continue;
    const list = bySlot.get(t.slot);
    if (list === undefined) bySlot.set(t.slot, [t]);
    else list.push(t);
  }
  const slots: SlotView[] = [];
  for (const [slot, tasks] of bySlot) {
    if (tasks.length === 1) {
      // Most slots hold one task: nothing to sort, no extra to find (a service of 100,000 slots
      // is planned in one synchronous stretch of the leader).
      const only = tasks[0]!;
      slots.push({ slot, tasks, runnable: isRunnable(only) ? only : undefined });
      continue;
    }
    const hist = history(tasks);
    for (const extra of extraRunnable(hist, service)) plan.raise(extra.id, TaskState.SHUTDOWN);
    slots.push({ slot, tasks: hist, runnable: hist.filter(isRunnable).sort(byAdvancement)[0] });
  }

  const want = desiredReplicas(service);
  if (slots.length < want) {
    let missing = Math.min(want - slots.length, input.maxNew ?? Infinity);
    for (let n = 1; missing > 0; n++) {
      if (bySlot.has(n)) continue;
      plan.create(newTask(service, { slot: n }, input.now, input.newId?.()), "empty-slot");
      missing--;
    }
  } else if (slots.length > want) {
    for (const slot of keepOrder(slots).slice(want)) planRemovedTasks(slot.tasks, plan);
  }
  return plan;
}

/** The slots in the order they are kept when scaling down: the first `replicas` stay. */
function keepOrder(slots: readonly SlotView[]): SlotView[] {
  const bySlot = (a: SlotView, b: SlotView): number => a.slot - b.slot;
  const assigned = slots.filter((s) => s.runnable !== undefined && s.runnable.nodeId !== "");
  const unassigned = slots.filter((s) => s.runnable !== undefined && s.runnable.nodeId === "").sort(bySlot);
  const idle = slots.filter((s) => s.runnable === undefined).sort(bySlot);
  // The nth copy of the service on its node, counted in order of advancement then slot number.
  assigned.sort((a, b) => statusState(b.runnable!) - statusState(a.runnable!) || a.slot - b.slot);
  const perNode = new Map<string, number>();
  const copy = new Map<SlotView, number>();
  for (const s of assigned) {
    const n = (perNode.get(s.runnable!.nodeId) ?? 0) + 1;
    perNode.set(s.runnable!.nodeId, n);
    copy.set(s, n);
  }
  assigned.sort(
    (a, b) => copy.get(a)! - copy.get(b)! || statusState(b.runnable!) - statusState(a.runnable!) || a.slot - b.slot,
  );
  return [...assigned, ...unassigned, ...idle];
}
