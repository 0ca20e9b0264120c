// The updater (leader only): rolls services to a new spec slot by slot, and back (see
// reconcile.ts for the rules), and carries out rebalances by the same rules
// (../rebalance/rollout.ts). It watches services, tasks and nodes. A service event marks the
// service; a task event marks its service only while that service has rollout work (slots
// outdated or in flight, a rollout under way), so status reports of services at rest cost
// nothing; a node event marks every such service (a lost node counts as a stopped task). Each
// pass decides for the marked services in one transaction (several for very large plans), which
// also writes their new update status.
//
// In memory only: timers (the end of a delay or a monitor period, found again from the store
// by a new leader) and how long each task the updater saw end had run (a new leader bounds it
// from the store's times instead: see reconcile.ts).
import { TaskState, UpdateState, componentLogger, type Clock, type Logger, type Task, type Timer } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../../reconcile/index.js";
import { matchEveryNode, nodeAvailability, nodeState, type NodeMatcher } from "../node-checks.js";
import { Plan, commitPlan } from "../plan.js";
import { serviceName } from "../task-factory.js";
import { hasEnded, statusState, updatedAt } from "../task-states.js";
import { planRebalanceRollout } from "../rebalance/rollout.js";
import { minOf, planUpdate } from "./reconcile.js";

/** Ends remembered at most; the oldest are forgotten first (a new leader's bound applies). */
const MAX_ENDS = 100_000;

export interface UpdaterOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  /** Placement constraints of global services (the scheduler's); default: every node matches. */
  readonly nodeMatches?: NodeMatcher | undefined;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

export class Updater {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly nodeMatches: NodeMatcher;
  private readonly maxWrites: number | undefined;
  private readonly newId: (() => string) | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  private dirty = new Set<string>();
  /** Services with rollout work, as the last pass found them: their task events matter. */
  private readonly busy = new Set<string>();
  /** One timer per service, for the next end of a delay or monitor period. */
  private readonly timers = new Map<string, { at: number; timer: Timer }>();
  /** How long tasks seen ending on their own had run (ms; -1: never ran). */
  private readonly ends = new Map<string, number>();

  constructor(options: UpdaterOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/update");
    this.nodeMatches = options.nodeMatches ?? matchEveryNode;
    this.maxWrites = options.maxWritesPerTx;
    this.newId = options.newId;
    this.loop = new ReconcileLoop(
      {
        tables: ["services", "tasks", "nodes"],
        // observe only reads each event and notes ids: no copies.
        uncopied: true,
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.all || this.dirty.size > 0,
        pass: (signal) => this.pass(signal),
        stopped: () => this.cancelTimers(),
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

  /** Stops, cancels its timers, and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private reset(_tx: ReadTx): void {
    this.all = true;
    this.dirty.clear();
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "services":
        this.dirty.add(e.object.id);
        return;
      case "tasks": {
        const t = e.object;
        if (e.kind === "update") this.noteEnd(t, e.oldObject);
        else if (e.kind === "delete") this.ends.delete(t.id);
        if (this.busy.has(t.serviceId)) this.dirty.add(t.serviceId);
        return;
      }
      case "nodes":
        if (
          e.kind !== "update" ||
          nodeState(e.object) !== nodeState(e.oldObject) ||
          nodeAvailability(e.object) !== nodeAvailability(e.oldObject)
        ) {
          for (const id of this.busy) this.dirty.add(id);
        }
        return;
      default:
        return;
    }
  }

  /** Remembers how long a task that just ended on its own had run. */
  private noteEnd(t: Task, old: Task): void {
    if (!hasEnded(t) || hasEnded(old) || statusState(t) === TaskState.SHUTDOWN) return;
    const ran = statusState(old) === TaskState.RUNNING ? Math.max(0, updatedAt(t) - updatedAt(old)) : -1;
    if (this.ends.size >= MAX_ENDS) this.ends.delete(this.ends.keys().next().value!);
    this.ends.set(t.id, ran);
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const all = this.all;
    const dirty = this.dirty;
    this.all = false;
    this.dirty = new Set();
    const wakes = new Map<string, number | undefined>();
    const transitions: { service: string; kind: string; state: UpdateState; message: string }[] = [];
    try {
      const plan = await commitPlan(
        this.store,
        (tx) => {
          wakes.clear();
          transitions.length = 0;
          return this.plan(tx, all, dirty, wakes, transitions);
        },
        { signal, maxWrites: this.maxWrites },
      );
      if (plan.size > 0) this.logger.debug({ ...plan.summary(), services: all ? "all" : dirty.size }, "update pass");
    } catch (err: unknown) {
      this.all ||= all;
      for (const id of dirty) this.dirty.add(id);
      throw err;
    }
    for (const t of transitions) {
      this.logger.info({ service: t.service, state: UpdateState[t.state], message: t.message }, `${t.kind} status`);
    }
    for (const [id, at] of wakes) this.schedule(id, at);
  }

  private plan(
    tx: WriteTx,
    all: boolean,
    dirty: ReadonlySet<string>,
    wakes: Map<string, number | undefined>,
    transitions: { service: string; kind: string; state: UpdateState; message: string }[],
  ): Plan {
    const now = this.clock.now();
    const plan = new Plan();
    const ids = all ? tx.services.find().map((s) => s.id) : [...dirty];
    if (all) this.busy.clear();
    for (const id of ids) {
      const service = tx.services.get(id);
      if (service === undefined) {
        this.busy.delete(id);
        wakes.set(id, undefined);
        continue;
      }
      const input = {
        service,
        // Read without copies (scan): the plan names what it changes by id.
        tasks: tx.tasks.scan({ serviceId: id }),
        node: (nodeId: string) => tx.nodes.get(nodeId),
        nodeMatches: this.nodeMatches,
        now,
        ranFor: (taskId: string) => this.ends.get(taskId),
        newId: this.newId,
      };
      const update = planUpdate(input);
      // A rebalance follows the same rules, with its own status (it stands down for an update).
      const rebalance = planRebalanceRollout({ ...input, service: update.service ?? service });
      const written = rebalance.service ?? update.service;
      if (written !== undefined) {
        tx.services.update(written);
        for (const [kind, before, after] of [
          ["update", service.updateStatus, written.updateStatus],
          ["rebalance", service.rebalanceStatus, written.rebalanceStatus],
        ] as const) {
          if (after !== undefined && after.state !== before?.state) {
            transitions.push({ service: serviceName(service), kind, state: after.state, message: after.message });
          }
        }
      }
      plan.ops.push(...update.plan.ops);
      // Both see a slot whose old task was shut down stop-first: one new task for it, not two.
      const filled = new Set(update.plan.ops.flatMap((op) => (op.kind === "create" ? [op.task.slot] : [])));
      for (const op of rebalance.plan.ops) if (op.kind !== "create" || !filled.has(op.task.slot)) plan.ops.push(op);
      if (update.busy || rebalance.busy) this.busy.add(id);
      else this.busy.delete(id);
      wakes.set(id, minOf(update.wakeAt, rebalance.wakeAt));
    }
    return plan;
  }

  /** Keeps one timer per service, at `at` (none if undefined). */
  private schedule(id: string, at: number | undefined): void {
    const current = this.timers.get(id);
    if (current !== undefined && current.at === at) return;
    current?.timer.cancel();
    this.timers.delete(id);
    if (at === undefined) return;
    const timer = this.clock.setTimeout(
      () => {
        this.timers.delete(id);
        this.dirty.add(id);
        this.loop.kick();
      },
      Math.max(0, at - this.clock.now()),
    );
    this.timers.set(id, { at, timer });
  }

  private cancelTimers(): void {
    for (const t of this.timers.values()) t.timer.cancel();
    this.timers.clear();
  }
}
