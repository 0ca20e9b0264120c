// The replicated orchestrator (leader only): keeps each replicated service at its number of slots
// (see reconcile.ts), and removes the tasks of services that are gone. It reacts to service
// events and to the task events that change which slots exist (creation, deletion, removal);
// status reports alone do not concern it. Each pass decides for the services marked since the
// last one, in one transaction (several for very large plans, see plan.ts).
import { componentLogger, systemClock, type Clock, type Logger, type Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../loop.js";
import { Plan, commitPlan, ownWrites } from "../plan.js";
import { isRemoved } from "../task-states.js";
import { isReplicatedTask, planRemovedTasks, planReplicated } from "./reconcile.js";

export interface ReplicatedOrchestratorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
}

export class ReplicatedOrchestrator {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxWrites: number | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  private dirty = new Set<string>();
  /** What the last pass wrote: the events of its own writes are no news (see ownWrites). */
  private own = ownWrites();

  constructor(options: ReplicatedOrchestratorOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = componentLogger(options.logger, "orchestrator/replicated");
    this.maxWrites = options.maxWritesPerTx;
    this.loop = new ReconcileLoop(
      {
        tables: ["services", "tasks"],
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.all || this.dirty.size > 0,
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
  }

  private observe(e: ObjectEvent): void {
    if (e.table === "services") {
      this.dirty.add(e.object.id);
    } else if (e.table === "tasks" && isReplicatedTask(e.object)) {
      const t = e.object;
      const matters =
        (e.kind === "create" && !this.own.created.has(t.id)) ||
        (e.kind === "delete" && !isRemoved(t)) ||
        (e.kind === "update" && isRemoved(t) !== isRemoved(e.oldObject) && !this.own.removed.has(t.id));
      if (matters) this.dirty.add(t.serviceId);
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const all = this.all;
    const dirty = this.dirty;
    this.all = false;
    this.dirty = new Set();
    this.own = ownWrites();
    try {
      const plan = await commitPlan(this.store, (tx) => this.plan(tx, all, dirty), {
        signal,
        maxWrites: this.maxWrites,
      });
      this.own = ownWrites(plan);
      if (plan.size > 0)
        this.logger.debug({ ...plan.summary(), services: all ? "all" : dirty.size }, "replicated pass");
    } catch (err: unknown) {
      this.all ||= all;
      for (const id of dirty) this.dirty.add(id);
      throw err;
    }
  }

  private plan(tx: WriteTx, all: boolean, dirty: ReadonlySet<string>): Plan {
    const now = this.clock.now();
    const plan = new Plan();
    let byService: Map<string, Task[]> | undefined;
    let ids: Iterable<string> = dirty;
    if (all) {
      // Every service, and every service that is gone but still has tasks.
      byService = new Map();
      for (const t of tx.tasks.find()) {
        if (!isReplicatedTask(t)) continue;
        const list = byService.get(t.serviceId);
        if (list === undefined) byService.set(t.serviceId, [t]);
        else list.push(t);
      }
      ids = new Set([...tx.services.find().map((s) => s.id), ...byService.keys()]);
    }
    for (const id of ids) {
      const tasks = byService?.get(id) ?? (all ? [] : tx.tasks.find({ serviceId: id }));
      const service = tx.services.get(id);
      if (service === undefined) {
        const before = plan.size;
        planRemovedTasks(tasks.filter(isReplicatedTask), plan);
        if (plan.size > before)
          this.logger.info({ serviceId: id, tasks: plan.size - before }, "service gone: removing its tasks");
        continue;
      }
      planReplicated({ service, tasks, now }, plan);
    }
    return plan;
  }
}
