// What a reconciler decides, as data: tasks to create, desired states to raise, tasks to delete.
// Reconcilers are pure (state and `now` in, a plan out); `commitPlan` writes a plan through the
// store: the plan is made inside the first transaction and written there, up to `maxWrites`
// writes; what does not fit goes in the next transactions, each write checked again against the
// state it lands on (so a plan split over several entries never makes a slot hold two runnable
// tasks, fills a slot twice, or moves a desired state back).
import { TaskState, type Task } from "@shoal/shared";
import type { MemoryStore, WriteTx } from "../state/store/index.js";
import { findSlotTasks, isLive, isRemoved, slotKey, slotOf } from "./task-states.js";

/** Writes per transaction unless told otherwise: one Raft entry stays well under a megabyte. */
export const DEFAULT_MAX_WRITES_PER_TX = 1_000;

/**
 * What must still hold for a new task to be created:
 * - "empty-slot": its slot has no task that is not removed (a slot filled for the first time);
 * - "successor": its slot has history (a task not removed) but no live task;
 * - "replacement": its slot has history and no live task but the one the new task replaces
 *   (`replaces`): the updater's new task, made while the old one runs (start-first) or once it
 *   stopped (stop-first). A successor made meanwhile by the restart supervisor wins, and the
 *   other way round.
 * In every case its service must still exist.
 */
export type CreateGuard = "empty-slot" | "successor" | "replacement";

export type Op =
  | { readonly kind: "create"; readonly task: Task; readonly guard: CreateGuard; readonly replaces?: string }
  | { readonly kind: "raise"; readonly id: string; readonly desiredState: TaskState }
  | { readonly kind: "delete"; readonly id: string };

export class Plan {
  readonly ops: Op[] = [];
  #creates = 0;

  create(task: Task, guard: "empty-slot" | "successor"): void {
    this.ops.push({ kind: "create", task, guard });
    this.#creates++;
  }

  /** A new task in the slot of `replaces` (see the "replacement" guard). */
  replace(task: Task, replaces: string): void {
    this.ops.push({ kind: "create", task, guard: "replacement", replaces });
    this.#creates++;
  }

  /** How many tasks the plan creates. */
  get creates(): number {
    return this.#creates;
  }

  /** Raises the task's desired state to `desiredState` (never lowers it). */
  raise(id: string, desiredState: TaskState): void {
    this.ops.push({ kind: "raise", id, desiredState });
  }

  delete(id: string): void {
    this.ops.push({ kind: "delete", id });
  }

  get size(): number {
    return this.ops.length;
  }

  /** Counts of each kind of write, for logs and tests. */
  summary(): { create: number; shutdown: number; remove: number; delete: number } {
    const s = { create: 0, shutdown: 0, remove: 0, delete: 0 };
    for (const op of this.ops) {
      if (op.kind === "create") s.create++;
      else if (op.kind === "delete") s.delete++;
      else if (op.desiredState >= TaskState.REMOVE) s.remove++;
      else s.shutdown++;
    }
    return s;
  }
}

/**
 * Applies `ops` from `start` in `tx`, and stops after `maxWrites` writes. Returns the index of the
 * first op not looked at. With `check`, each op is first checked against the state `tx` sees (a
 * create against its guard, a raise against the task's current desired state); without, the ops
 * are trusted to fit that state (they were planned from it, in the same transaction).
 */
export function applyOps(tx: WriteTx, ops: readonly Op[], start: number, maxWrites: number, check = true): number {
  const end = Math.min(ops.length, start + maxWrites);
  // Checks read the slots before anything is written: reads in a transaction that has written
  // scan its writes, which would make a big chunk quadratic.
  const slots = check ? readSlots(tx, ops, start, end) : undefined;
  let writes = 0;
  let i = start;
  for (; i < end && writes < maxWrites; i++) {
    const op = ops[i]!;
    switch (op.kind) {
      case "create": {
        if (slots !== undefined) {
          const key = slotKeyOf(op.task);
          const slot = key === undefined ? undefined : slots.tasks.get(key);
          if (slot === undefined || !slots.serviceExists(op.task.serviceId)) break;
          const kept = slot.filter((t) => !isRemoved(t));
          const ok =
            op.guard === "empty-slot"
              ? kept.length === 0
              : op.guard === "successor"
                ? kept.length > 0 && !kept.some(isLive)
                : kept.length > 0 && kept.every((t) => !isLive(t) || t.id === op.replaces);
          if (!ok) break;
          slot.push(op.task);
        }
        tx.tasks.create(op.task);
        writes++;
        break;
      }
      case "raise": {
        const t = tx.tasks.get(op.id);
        if (t === undefined || t.desiredState >= op.desiredState) break;
        t.desiredState = op.desiredState;
        tx.tasks.update(t);
        slots?.raised(t);
        writes++;
        break;
      }
      case "delete":
        if (tx.tasks.get(op.id) === undefined) break;
        tx.tasks.delete(op.id);
        writes++;
        break;
    }
  }
  return i;
}

function slotKeyOf(t: Task): string | undefined {
  const ref = slotOf(t);
  return ref === undefined ? undefined : slotKey(ref);
}

/** The slots the creates of ops[start, end) go to, with their tasks, kept up to date by `raised`. */
function readSlots(tx: WriteTx, ops: readonly Op[], start: number, end: number) {
  const tasks = new Map<string, Task[]>();
  const services = new Map<string, boolean>();
  for (let i = start; i < end; i++) {
    const op = ops[i]!;
    if (op.kind !== "create") continue;
    const ref = slotOf(op.task);
    if (ref === undefined) continue;
    const key = slotKey(ref);
    if (!tasks.has(key)) tasks.set(key, findSlotTasks(tx, ref));
    const id = op.task.serviceId;
    if (!services.has(id)) services.set(id, tx.services.get(id) !== undefined);
  }
  return {
    tasks,
    serviceExists: (id: string): boolean => services.get(id) === true,
    /** Keeps the slot of a task whose desired state was raised up to date. */
    raised(t: Task): void {
      const key = slotKeyOf(t);
      const slot = key === undefined ? undefined : tasks.get(key);
      if (slot === undefined) return;
      const at = slot.findIndex((x) => x.id === t.id);
      if (at >= 0) slot[at] = t;
    },
  };
}

export interface CommitPlanOptions {
  readonly signal?: AbortSignal | undefined;
  readonly maxWrites?: number | undefined;
}

/**
 * Makes a plan with `makePlan` inside a transaction and writes it (see the top of this file).
 * Resolves with the plan once every part of it is committed.
 */
export async function commitPlan(
  store: MemoryStore,
  makePlan: (tx: WriteTx) => Plan,
  options: CommitPlanOptions = {},
): Promise<Plan> {
  const maxWrites = Math.max(1, options.maxWrites ?? DEFAULT_MAX_WRITES_PER_TX);
  const update = options.signal === undefined ? {} : { signal: options.signal };
  let plan = new Plan();
  let next = 0;
  await store.update((tx) => {
    plan = makePlan(tx);
    next = applyOps(tx, plan.ops, 0, maxWrites, false); // planned from this very state
  }, update);
  while (next < plan.ops.length) {
    const from = next;
    await store.update((tx) => {
      next = applyOps(tx, plan.ops, from, maxWrites);
    }, update);
  }
  return plan;
}

/**
 * The tasks a plan created and raised to REMOVE. A component skips the events of its own writes
 * (a task it created; a task it removed), which it already took into account: without this, every
 * pass that writes would be followed by a pass that rereads the same services to find nothing to
 * do. The loop reads the events of a pass before it starts the next one, so the set of the last
 * pass is enough. Both kinds of event happen once in a task's life: no one else's change is lost.
 */
export function ownWrites(plan?: Plan): { readonly created: Set<string>; readonly removed: Set<string> } {
  const created = new Set<string>();
  const removed = new Set<string>();
  for (const op of plan?.ops ?? []) {
    if (op.kind === "create") created.add(op.task.id);
    else if (op.kind === "raise" && op.desiredState >= TaskState.REMOVE) removed.add(op.id);
  }
  return { created, removed };
}
