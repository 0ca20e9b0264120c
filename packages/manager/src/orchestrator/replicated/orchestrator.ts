// The replicated orchestrator (leader only): keeps each replicated service at its number of slots
// (see reconcile.ts), and removes the tasks of services that are gone. Each pass decides for the
// services marked since the last one, in one transaction (several for very large plans, see
// plan.ts). What marks a service:
// - any event of the service itself;
// - a task of it raised to REMOVE by someone else;
// - a task created or deleted by someone else, if a look at its slot shows the slot's count may
//   have changed (the slot is now empty, holds two runnable tasks, or is numbered beyond the
//   replicas). Successors made by the restart supervisor and history deleted by the reaper do
//   not change the count, and reading a service of 100,000 tasks again for each would be waste.
// Status reports alone do not concern it.
import { componentLogger, type Clock, type Logger, type Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../../reconcile/index.js";
import { Plan, commitPlan, ownWrites } from "../plan.js";
import { findSlotTasks, isRemoved, isRunnable, slotKey, type SlotRef } from "../task-states.js";
import { desiredReplicas } from "../task-factory.js";
import { isReplicatedTask, planRemovedTasks, planReplicated } from "./reconcile.js";

export interface ReplicatedOrchestratorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
}

/** New tasks one pass makes for one service; a service scaled far up fills in several passes. */
export const MAX_NEW_TASKS_PER_PASS = 5_000;

export class ReplicatedOrchestrator {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxWrites: number | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  private dirty = new Set<string>();
  /** Slots to look at: a task of theirs was created or deleted by someone else. */
  private slots = new Map<string, SlotRef>();
  /** What the last pass wrote: the events of its own writes are no news (see ownWrites). */
  private own = ownWrites();

  constructor(options: ReplicatedOrchestratorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/replicated");
    this.maxWrites = options.maxWritesPerTx;
    this.loop = new ReconcileLoop(
      {
        tables: ["services", "tasks"],
        // observe only reads each event and notes ids: no copies.
        uncopied: true,
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.all || this.dirty.size > 0 || this.slots.size > 0,
        pass: (signal) => this.pass(signal),
      },
      {
        store: this.store,
        clock: this.clock,
        logger: this.logger,
        debounceMs: options.debounceMs,
        maxDelayMs: options.maxDelayMs,
      },
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
    this.dirty.clear();
    this.slots.clear();
  }

  private observe(e: ObjectEvent): void {
    if (e.table === "services") {
      this.dirty.add(e.object.id);
      return;
    }
    if (e.table !== "tasks" || !isReplicatedTask(e.object)) return;
    const t = e.object;
    if (e.kind === "update") {
      if (isRemoved(t) && !isRemoved(e.oldObject) && !this.own.removed.has(t.id)) this.dirty.add(t.serviceId);
    } else if ((e.kind === "create" && !this.own.created.has(t.id)) || (e.kind === "delete" && !isRemoved(t))) {
      const ref = { serviceId: t.serviceId, slot: t.slot };
      this.slots.set(slotKey(ref), ref);
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const all = this.all;
    const dirty = this.dirty;
    const slots = this.slots;
    this.all = false;
    this.dirty = new Set();
    this.slots = new Map();
    this.own = ownWrites();
    try {
      const plan = await commitPlan(this.store, (tx) => this.plan(tx, all, dirty, slots), {
        signal,
        maxWrites: this.maxWrites,
      });
      this.own = ownWrites(plan);
      if (plan.size > 0)
        this.logger.debug({ ...plan.summary(), services: all ? "all" : dirty.size }, "replicated pass");
    } catch (err: unknown) {
      this.all ||= all;
      for (const id of dirty) this.dirty.add(id);
      for (const [key, ref] of slots) this.slots.set(key, ref);
      throw err;
    }
  }

  private plan(tx: WriteTx, all: boolean, dirty: Set<string>, slots: ReadonlyMap<string, SlotRef>): Plan {
    const now = this.clock.now();
    const replicas = new Map<string, number | undefined>();
    const replicasOf = (id: string): number | undefined => {
      if (!replicas.has(id)) {
        const service = tx.services.get(id);
        replicas.set(id, service === undefined ? undefined : desiredReplicas(service));
      }
      return replicas.get(id);
    };
    for (const ref of slots.values()) {
      if (!dirty.has(ref.serviceId) && slotChanged(tx, ref, replicasOf)) dirty.add(ref.serviceId);
    }
    const plan = new Plan();
    // Read without copies (scan): planning reads tasks and names the ones to change by id.
    let byService: Map<string, Readonly<Task>[]> | undefined;
    let ids: Iterable<string> = dirty;
    if (all) {
      // Every service, and every service that is gone but still has tasks.
      byService = new Map();
      for (const t of tx.tasks.scan()) {
        if (!isReplicatedTask(t)) continue;
        const list = byService.get(t.serviceId);
        if (list === undefined) byService.set(t.serviceId, [t]);
        else list.push(t);
      }
      ids = new Set([...tx.services.find().map((s) => s.id), ...byService.keys()]);
    }
    for (const id of ids) {
      const tasks = byService?.get(id) ?? (all ? [] : tx.tasks.scan({ serviceId: id }));
      const service = tx.services.get(id);
      if (service === undefined) {
        const before = plan.size;
        planRemovedTasks(tasks.filter(isReplicatedTask), plan);
        if (plan.size > before)
          this.logger.info({ serviceId: id, tasks: plan.size - before }, "service gone: removing its tasks");
        continue;
      }
      const before = plan.creates;
      planReplicated({ service, tasks, now, maxNew: MAX_NEW_TASKS_PER_PASS }, plan);
      // Bounded: the next pass makes more (a 100,000-replica service in one plan held the loop).
      if (plan.creates - before === MAX_NEW_TASKS_PER_PASS) this.dirty.add(id);
    }
    return plan;
  }
}

/** Whether a slot whose tasks changed may change the service's count (see the top of the file). */
function slotChanged(tx: WriteTx, ref: SlotRef, replicas: (serviceId: string) => number | undefined): boolean {
  const want = replicas(ref.serviceId);
  if (want === undefined) return true;
  const kept = findSlotTasks(tx, ref).filter((t) => !isRemoved(t));
  return kept.length === 0 || kept.filter(isRunnable).length > 1 || (ref.slot ?? 0) > want;
}
