// The restart supervisor (leader only): applies restart policies to the tasks of every service,
// replicated and global (see reconcile.ts for the rules). It watches tasks, nodes and services,
// marks the slots an event concerns, and in each pass decides for those slots in one transaction.
// Successors that must wait for their restart delay are created by a timer on the injected clock;
// the timers are cancelled when the supervisor stops, and a new leader's supervisor finds the
// waiting slots in the store and schedules them again.
import { componentLogger, type Clock, type Logger, type Timer } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop, type LoopOptions } from "../../reconcile/index.js";
import { matchEveryNode, nodeAvailability, nodeLost, nodeState, type NodeMatcher } from "../node-checks.js";
import { commitPlan } from "../plan.js";
import { findSlotTasks, hasEnded, isLive, slotKey, slotOf, type SlotRef } from "../task-states.js";
import { planRestarts, restartCandidates, type RestartSlot, type SlotWake } from "./reconcile.js";

export interface RestartSupervisorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  /** Placement constraints of global services; default: every node matches. */
  readonly nodeMatches?: NodeMatcher | undefined;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
}

export class RestartSupervisor {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly nodeMatches: NodeMatcher;
  private readonly maxWrites: number | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  private slots = new Map<string, SlotRef>();
  /** Slots whose task was just placed on a node: they matter only if that node is lost already. */
  private placed = new Map<string, { ref: SlotRef; nodeId: string }>();
  private nodes = new Set<string>();
  private services = new Set<string>();
  /** Slots waiting for a successor: when it is due, and the timer that wakes the loop then. */
  private readonly waiting = new Map<string, { ref: SlotRef; due: number; timer: Timer }>();

  constructor(options: RestartSupervisorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/restart");
    this.nodeMatches = options.nodeMatches ?? matchEveryNode;
    this.maxWrites = options.maxWritesPerTx;
    const loopOptions: LoopOptions = {
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      debounceMs: options.debounceMs,
      maxDelayMs: options.maxDelayMs,
    };
    this.loop = new ReconcileLoop(
      {
        // Creations never call for a restart (a new node has no task yet).
        tables: ["tasks", "nodes", "services"],
        // observe only reads each event and notes ids: no copies.
        uncopied: true,
        kinds: ["update", "delete"],
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () =>
          this.all || this.slots.size > 0 || this.placed.size > 0 || this.nodes.size > 0 || this.services.size > 0,
        pass: (signal) => this.pass(signal),
        stopped: () => this.cancelTimers(),
      },
      loopOptions,
    );
  }

  /** Runs until `signal` aborts or `stop()`; starts from one snapshot of the store. */
  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Stops, cancels every pending restart timer, and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Slots waiting for their restart delay, with the time each successor is due (for tests, metrics). */
  pendingRestarts(): Map<string, number> {
    return new Map([...this.waiting].map(([key, w]) => [key, w.due]));
  }

  private reset(_tx: ReadTx): void {
    this.all = true;
    this.slots.clear();
    this.placed.clear();
    this.nodes.clear();
    this.services.clear();
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "tasks": {
        const t = e.object;
        const ref = slotOf(t);
        if (ref === undefined) return;
        const key = slotKey(ref);
        if (e.kind === "update") {
          const o = e.oldObject;
          if ((isLive(t) && hasEnded(t)) || t.desiredState !== o.desiredState) this.slots.set(key, ref);
          else if (t.nodeId !== o.nodeId && t.nodeId !== "" && isLive(t)) {
            this.placed.set(key, { ref, nodeId: t.nodeId });
          }
        } else if (e.kind === "delete" && this.waiting.has(key)) {
          this.slots.set(key, ref);
        }
        return;
      }
      case "nodes": {
        const n = e.object;
        if (
          e.kind !== "update" ||
          nodeState(n) !== nodeState(e.oldObject) ||
          nodeAvailability(n) !== nodeAvailability(e.oldObject)
        ) {
          this.nodes.add(n.id);
        }
        return;
      }
      case "services":
        if (e.kind === "delete") this.services.add(e.object.id);
        return;
      default:
        return;
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const all = this.all;
    const slots = this.slots;
    const placed = this.placed;
    const nodes = this.nodes;
    const services = this.services;
    this.all = false;
    this.slots = new Map();
    this.placed = new Map();
    this.nodes = new Set();
    this.services = new Set();
    let wake = new Map<string, SlotWake>();
    let seen = new Set<string>();
    try {
      const plan = await commitPlan(
        this.store,
        (tx) => {
          const node = cached((id) => tx.nodes.get(id));
          for (const [key, p] of placed) {
            if (!slots.has(key) && nodeLost(node(p.nodeId))) slots.set(key, p.ref);
          }
          const groups = this.collect(tx, all, slots, nodes, services, (id) => nodeLost(node(id)));
          seen = new Set(groups.keys());
          const due = new Map([...this.waiting].map(([key, w]) => [key, w.due]));
          const decision = planRestarts(
            {
              service: cached((id) => tx.services.get(id)),
              node,
              nodeMatches: this.nodeMatches,
              now: this.clock.now(),
              due,
            },
            groups.values(),
          );
          wake = decision.wake;
          return decision.plan;
        },
        { signal, maxWrites: this.maxWrites },
      );
      if (plan.size > 0) this.logger.debug({ ...plan.summary(), slots: seen.size }, "restart pass");
    } catch (err: unknown) {
      if (all) this.all = true;
      for (const [k, v] of slots) this.slots.set(k, v);
      for (const [k, v] of placed) this.placed.set(k, v);
      for (const n of nodes) this.nodes.add(n);
      for (const s of services) this.services.add(s);
      throw err;
    }
    this.schedule(all, seen, wake);
  }

  /** The slots to decide on, with all their tasks. */
  private collect(
    tx: WriteTx,
    all: boolean,
    slots: ReadonlyMap<string, SlotRef>,
    nodes: ReadonlySet<string>,
    services: ReadonlySet<string>,
    lost: (nodeId: string) => boolean,
  ): Map<string, RestartSlot> {
    // Read without copies (scan): the plan names what it changes by id.
    const refs = all ? restartCandidates(tx.tasks.scan(), lost) : new Map(slots);
    for (const nodeId of all ? [] : nodes) {
      for (const t of tx.tasks.scan({ nodeId })) {
        const ref = slotOf(t);
        if (ref !== undefined) refs.set(slotKey(ref), ref);
      }
    }
    // A deleted service: its waiting slots are looked at again (and dropped: no service).
    for (const [key, w] of this.waiting) if (services.has(w.ref.serviceId)) refs.set(key, w.ref);
    const out = new Map<string, RestartSlot>();
    for (const [key, ref] of refs) out.set(key, { ref, tasks: findSlotTasks(tx, ref) });
    return out;
  }

  /** Keeps a timer for each slot waiting for a successor; drops the others among those looked at. */
  private schedule(all: boolean, seen: ReadonlySet<string>, wake: ReadonlyMap<string, SlotWake>): void {
    for (const [key, w] of this.waiting) {
      if ((all || seen.has(key)) && !wake.has(key)) {
        w.timer.cancel();
        this.waiting.delete(key);
      }
    }
    for (const [key, { ref, due }] of wake) {
      const current = this.waiting.get(key);
      if (current !== undefined && current.due === due) continue;
      current?.timer.cancel();
      const timer = this.clock.setTimeout(
        () => {
          this.slots.set(key, ref);
          this.loop.kick();
        },
        Math.max(0, due - this.clock.now()),
      );
      this.waiting.set(key, { ref, due, timer });
    }
  }

  private cancelTimers(): void {
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
  }
}

function cached<T>(get: (id: string) => T | undefined): (id: string) => T | undefined {
  const memo = new Map<string, T | undefined>();
  return (id) => {
    if (memo.has(id)) return memo.get(id);
    const value = get(id);
    memo.set(id, value);
    return value;
  };
}
