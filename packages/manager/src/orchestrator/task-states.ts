// The words every orchestrator uses about a task, and the order of the tasks of one slot.
//
// A task has two states: `desiredState`, what the system wants (set by the orchestrators, only
// ever raised), and `status.state`, what was observed (reported by the agent, only ever raised).
//
// - live:      desiredState <= RUNNING. The system still wants it to run.
// - ended:     status.state > RUNNING (COMPLETE, SHUTDOWN, FAILED, REJECTED, ORPHANED).
// - runnable:  live and not ended: the task that fills its slot.
// - removed:   desiredState >= REMOVE: on its way out of the store (the reaper deletes it once it
//              is ended, or at once if it never reached a node); no longer part of its slot.
// - finished:  not live, not removed, and either ended or never assigned (status < ASSIGNED):
//              history, which the reaper trims.
//
// A slot is where a service keeps one of its tasks running: (service, slot number) for a
// replicated service, (service, node) for a global one. A job's slots also carry the iteration
// (the run) their tasks were made for: each run fills its own slots, so a run left to finish
// beside a newer one (schedule overlap ALLOW) never shares a slot with it. Its tasks that are not removed are its
// history, oldest first (see compareCreation); the last of them is the slot's latest task.
import { TaskState, type Task } from "@shoal/shared";
import type { ReadTx } from "../state/store/index.js";

export function statusState(t: Task): TaskState {
  return t.status?.state ?? TaskState.NEW;
}

export function isLive(t: Task): boolean {
  return t.desiredState <= TaskState.RUNNING;
}

export function hasEnded(t: Task): boolean {
  return statusState(t) > TaskState.RUNNING;
}

export function isRunnable(t: Task): boolean {
  return isLive(t) && !hasEnded(t);
}

export function isRemoved(t: Task): boolean {
  return t.desiredState >= TaskState.REMOVE;
}

export function isFinished(t: Task): boolean {
  return !isLive(t) && !isRemoved(t) && (hasEnded(t) || statusState(t) < TaskState.ASSIGNED);
}

/** Milliseconds of the store's creation time of `t` (0 if unknown). */
export function createdAt(t: Task): number {
  return t.meta?.createdAt?.getTime() ?? 0;
}

/** Milliseconds of the store's time of the last write to `t` (0 if unknown). */
export function updatedAt(t: Task): number {
  return t.meta?.updatedAt?.getTime() ?? createdAt(t);
}

export function versionIndex(t: Task): number {
  return t.meta?.version?.index ?? 0;
}

/**
 * Creation order: the store's creation time, then the raft index of the last write, then the id
 * (a total order, so that every manager sorts a slot the same way).
 */
export function compareCreation(a: Task, b: Task): number {
  return createdAt(a) - createdAt(b) || versionIndex(a) - versionIndex(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The slot of a task: a slot number (replicated) or a node (global). */
export type SlotRef = (
  | { readonly serviceId: string; readonly slot: number; readonly nodeId?: undefined }
  | { readonly serviceId: string; readonly slot?: undefined; readonly nodeId: string }
) & {
  /** Jobs: the iteration of the slot's tasks (undefined for services). */
  readonly iteration?: number | undefined;
};

/** The job iteration a task was made for; undefined for a service's task. */
export function iterationOf(t: Task): number | undefined {
  return t.jobIteration?.index;
}

/** The slot `t` belongs to; undefined for a task with neither a slot number nor a node. */
export function slotOf(t: Task): SlotRef | undefined {
  const iteration = iterationOf(t);
  if (t.slot > 0) return { serviceId: t.serviceId, slot: t.slot, iteration };
  if (t.nodeId !== "") return { serviceId: t.serviceId, nodeId: t.nodeId, iteration };
  return undefined;
}

/** A string naming a slot, for maps and sets. */
export function slotKey(ref: SlotRef): string {
  const base = ref.slot !== undefined ? `${ref.serviceId}/${ref.slot}` : `${ref.serviceId}@${ref.nodeId}`;
  return ref.iteration === undefined ? base : `${base}#${ref.iteration}`;
}

/**
 * The slot whose history the reaper trims: a job's slot across all its runs (a job that runs
 * again and again, on a schedule say, keeps a bounded history per slot, not per run).
 */
export function historySlotOf(t: Task): SlotRef | undefined {
  const ref = slotOf(t);
  return ref === undefined ? undefined : { ...ref, iteration: undefined };
}

/**
 * Every task of the slot, removed ones included; a ref without an iteration takes the tasks of
 * every run (a service's tasks have none, and a service never becomes a job).
 */
export function findSlotTasks(tx: ReadTx, ref: SlotRef): Task[] {
  const tasks =
    ref.slot !== undefined
      ? tx.tasks.find({ slot: { serviceId: ref.serviceId, slot: ref.slot } })
      : tx.tasks.find({ serviceId: ref.serviceId, nodeId: ref.nodeId }).filter((t) => t.slot === 0);
  return ref.iteration === undefined ? tasks : tasks.filter((t) => iterationOf(t) === ref.iteration);
}

/** The tasks of one service grouped by slot (tasks without one are left out); `keyOf`: which slot. */
export function groupBySlot(
  tasks: readonly Task[],
  keyOf: (t: Task) => SlotRef | undefined = slotOf,
): Map<string, { ref: SlotRef; tasks: Task[] }> {
  const out = new Map<string, { ref: SlotRef; tasks: Task[] }>();
  for (const t of tasks) {
    const ref = keyOf(t);
    if (ref === undefined) continue;
    const key = slotKey(ref);
    let group = out.get(key);
    if (group === undefined) out.set(key, (group = { ref, tasks: [] }));
    group.tasks.push(t);
  }
  return out;
}

/** The slot's history: its tasks that are not removed, oldest first. */
export function history(tasks: readonly Task[]): Task[] {
  return tasks.filter((t) => !isRemoved(t)).sort(compareCreation);
}
