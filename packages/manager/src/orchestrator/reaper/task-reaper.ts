// The task reaper (leader only): deletes removed tasks once they are done with, and trims each
// slot's history (see reconcile.ts). It marks slots when a task of theirs finishes, removed tasks
// when they become deletable, everything when the cluster's history limit changes, and deletes in
// one transaction per pass.
import { componentLogger, type Clock, type Logger, type Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../../reconcile/index.js";
import { Plan, commitPlan } from "../plan.js";
import { findSlotTasks, historySlotOf, isFinished, isRemoved, slotKey, type SlotRef } from "../task-states.js";
import { historyLimit, historyToKeep, planHistory, removable } from "./reconcile.js";

export interface TaskReaperOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
}

export class TaskReaper {
  private readonly store: MemoryStore;
  private readonly logger: Logger;
  private readonly maxWrites: number | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  private slots = new Map<string, SlotRef>();
  private removed = new Set<string>();
  private nodes = new Set<string>();
  private services = new Set<string>();

  constructor(options: TaskReaperOptions) {
    this.store = options.store;
    const clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/reaper");
    this.maxWrites = options.maxWritesPerTx;
    this.loop = new ReconcileLoop(
      {
        // Creations never make anything to delete. (A cluster created later with its own history
        // limit is read at the next pass, as every pass reads the limit.)
        tables: ["tasks", "nodes", "services", "clusters"],
        // observe only reads each event and notes ids: no copies.
        uncopied: true,
        kinds: ["update", "delete"],
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () =>
          this.all || this.slots.size > 0 || this.removed.size > 0 || this.nodes.size > 0 || this.services.size > 0,
        pass: (signal) => this.pass(signal),
      },
      { store: this.store, clock, logger: this.logger, debounceMs: options.debounceMs, maxDelayMs: options.maxDelayMs },
    );
  }

  /** Runs until `signal` aborts or `stop()`; starts from one snapshot of the store. */
  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Stops and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private reset(_tx: ReadTx): void {
    this.all = true;
    this.slots.clear();
    this.removed.clear();
    this.nodes.clear();
    this.services.clear();
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "tasks": {
        if (e.kind !== "update") return;
        const t = e.object;
        if (isRemoved(t)) this.removed.add(t.id);
        else if (isFinished(t) && !isFinished(e.oldObject)) {
          const ref = historySlotOf(t);
          if (ref !== undefined) this.slots.set(slotKey(ref), ref);
        }
        return;
      }
      case "nodes":
        if (e.kind === "delete") this.nodes.add(e.object.id);
        return;
      case "services": {
        // A new max attempts changes how much history a slot keeps.
        if (e.kind !== "update") return;
        const attempts = (s: typeof e.object): number => s.spec?.taskTemplate?.restartPolicy?.maxAttempts ?? 0;
        if (attempts(e.object) !== attempts(e.oldObject)) this.services.add(e.object.id);
        return;
      }
      case "clusters":
        if (
          e.kind === "delete" ||
          historyLimit(e.object) !== historyLimit(e.kind === "update" ? e.oldObject : undefined)
        ) {
          this.all = true;
        }
        return;
      default:
        return;
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const taken = {
      all: this.all,
      slots: this.slots,
      removed: this.removed,
      nodes: this.nodes,
      services: this.services,
    };
    this.all = false;
    this.slots = new Map();
    this.removed = new Set();
    this.nodes = new Set();
    this.services = new Set();
    try {
      const plan = await commitPlan(this.store, (tx) => this.plan(tx, taken), {
        signal,
        maxWrites: this.maxWrites,
      });
      if (plan.size > 0) this.logger.debug({ deleted: plan.size }, "reaper pass");
    } catch (err: unknown) {
      this.all ||= taken.all;
      for (const [k, v] of taken.slots) this.slots.set(k, v);
      for (const id of taken.removed) this.removed.add(id);
      for (const id of taken.nodes) this.nodes.add(id);
      for (const id of taken.services) this.services.add(id);
      throw err;
    }
  }

  private plan(
    tx: WriteTx,
    dirty: {
      all: boolean;
      slots: ReadonlyMap<string, SlotRef>;
      removed: ReadonlySet<string>;
      nodes: ReadonlySet<string>;
      services: ReadonlySet<string>;
    },
  ): Plan {
    const plan = new Plan();
    const limit = historyLimit(tx.clusters.find()[0]);
    const nodeExists = memo((id: string) => tx.nodes.get(id) !== undefined);
    const service = memo((id: string) => tx.services.get(id));
    const deleted = new Set<string>();
    const reapRemoved = (t: Task): void => {
      if (removable(t, nodeExists) && !deleted.has(t.id)) {
        deleted.add(t.id);
        plan.delete(t.id);
      }
    };
    const trim = (tasks: readonly Task[], serviceId: string): void => {
      const keep = historyToKeep(limit, tasks, service(serviceId));
      for (const op of planHistory(tasks, keep).ops) {
        if (op.kind === "delete" && !deleted.has(op.id)) {
          deleted.add(op.id);
          plan.delete(op.id);
        }
      }
    };

    // Read without copies (scan): the plan names what to delete by id.
    if (dirty.all) {
      // Only a slot with more finished tasks than the limit can have history to trim (a slot
      // keeps at least the limit): count those per slot, and read only such slots whole.
      const finished = new Map<string, { ref: SlotRef; count: number }>();
      for (const t of tx.tasks.scan()) {
        reapRemoved(t);
        const ref = isFinished(t) ? historySlotOf(t) : undefined;
        if (ref === undefined) continue;
        const key = slotKey(ref);
        const seen = finished.get(key);
        if (seen === undefined) finished.set(key, { ref, count: 1 });
        else seen.count++;
      }
      for (const { ref, count } of finished.values()) if (count > limit) trim(findSlotTasks(tx, ref), ref.serviceId);
      return plan;
    }
    for (const id of dirty.removed) {
      const t = tx.tasks.get(id);
      if (t !== undefined) reapRemoved(t);
    }
    for (const nodeId of dirty.nodes) for (const t of tx.tasks.scan({ nodeId })) reapRemoved(t);
    const slots = new Map(dirty.slots);
    for (const serviceId of dirty.services) {
      for (const t of tx.tasks.scan({ serviceId })) {
        const ref = historySlotOf(t);
        if (ref !== undefined) slots.set(slotKey(ref), ref);
      }
    }
    for (const ref of slots.values()) trim(findSlotTasks(tx, ref), ref.serviceId);
    return plan;
  }
}

function memo<T>(get: (id: string) => T): (id: string) => T {
  const cache = new Map<string, T>();
  return (id) => {
    if (cache.has(id)) return cache.get(id)!;
    const value = get(id);
    cache.set(id, value);
    return value;
  };
}
