// The global orchestrator (leader only): one task of each global service on every eligible node
// (see reconcile.ts), nodes that join later included. It reacts to service events, node events
// (a node joining, leaving, drained, paused, relabelled) and to the task events that change
// which slots exist; each pass decides for what was marked since the last one, in one
// transaction (several for very large plans).
import { componentLogger, type Clock, type Logger, type Node, type Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../../reconcile/index.js";
import { matchEveryNode, placementKey, type NodeMatcher } from "../node-checks.js";
import { Plan, commitPlan, ownWrites } from "../plan.js";
import { isGlobalService } from "../task-factory.js";
import { isRemoved } from "../task-states.js";
import { isGlobalTask, planGlobal } from "./reconcile.js";

export interface GlobalOrchestratorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  /** Placement constraints (the scheduler's parser); default: every node matches. */
  readonly nodeMatches?: NodeMatcher | undefined;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
}

export class GlobalOrchestrator {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly nodeMatches: NodeMatcher;
  private readonly maxWrites: number | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  /** Services to reconcile on every node. */
  private services = new Set<string>();
  /** Nodes to reconcile for every global service. */
  private nodes = new Set<string>();
  /** Single slots: service id -> node ids. */
  private pairs = new Map<string, Set<string>>();
  /** What the last pass wrote: the events of its own writes are no news (see ownWrites). */
  private own = ownWrites();

  constructor(options: GlobalOrchestratorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/global");
    this.nodeMatches = options.nodeMatches ?? matchEveryNode;
    this.maxWrites = options.maxWritesPerTx;
    this.loop = new ReconcileLoop(
      {
        tables: ["services", "nodes", "tasks"],
        // observe only reads each event and notes ids: no copies.
        uncopied: true,
        reset: (tx) => this.reset(tx),
        observe: (e) => this.observe(e),
        hasWork: () => this.all || this.services.size > 0 || this.nodes.size > 0 || this.pairs.size > 0,
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
    this.services.clear();
    this.nodes.clear();
    this.pairs.clear();
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "services":
        // Replicated services concern this orchestrator only when they were or become global.
        if (isGlobalService(e.object) || (e.kind === "update" && isGlobalService(e.oldObject))) {
          this.services.add(e.object.id);
        }
        return;
      case "nodes":
        if (e.kind !== "update" || placementKey(e.object) !== placementKey(e.oldObject)) this.nodes.add(e.object.id);
        return;
      case "tasks": {
        const t = e.object;
        if (!isGlobalTask(t) || t.nodeId === "") return;
        const matters =
          (e.kind === "create" && !this.own.created.has(t.id)) ||
          (e.kind === "delete" && !isRemoved(t)) ||
          (e.kind === "update" && isRemoved(t) !== isRemoved(e.oldObject) && !this.own.removed.has(t.id));
        if (!matters) return;
        let nodes = this.pairs.get(t.serviceId);
        if (nodes === undefined) this.pairs.set(t.serviceId, (nodes = new Set()));
        nodes.add(t.nodeId);
        return;
      }
      default:
        return;
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const taken = { all: this.all, services: this.services, nodes: this.nodes, pairs: this.pairs };
    this.all = false;
    this.services = new Set();
    this.nodes = new Set();
    this.pairs = new Map();
    this.own = ownWrites();
    try {
      const plan = await commitPlan(this.store, (tx) => this.plan(tx, taken), {
        signal,
        maxWrites: this.maxWrites,
      });
      this.own = ownWrites(plan);
      if (plan.size > 0) this.logger.debug(plan.summary(), "global pass");
    } catch (err: unknown) {
      this.all ||= taken.all;
      for (const id of taken.services) this.services.add(id);
      for (const id of taken.nodes) this.nodes.add(id);
      for (const [s, nodes] of taken.pairs) for (const n of nodes) this.pair(s, n);
      throw err;
    }
  }

  private pair(serviceId: string, nodeId: string): void {
    let nodes = this.pairs.get(serviceId);
    if (nodes === undefined) this.pairs.set(serviceId, (nodes = new Set()));
    nodes.add(nodeId);
  }

  private plan(
    tx: WriteTx,
    dirty: {
      all: boolean;
      services: ReadonlySet<string>;
      nodes: ReadonlySet<string>;
      pairs: ReadonlyMap<string, ReadonlySet<string>>;
    },
  ): Plan {
    const now = this.clock.now();
    const plan = new Plan();
    const base = { nodeMatches: this.nodeMatches, now };

    // Services looked at on every node; tasks read without copies (scan): the plan names what it
    // changes by id.
    const full = new Map<string, Readonly<Task>[]>();
    if (dirty.all) {
      for (const s of tx.services.find()) full.set(s.id, []);
      for (const t of tx.tasks.scan()) {
        if (!isGlobalTask(t)) continue;
        const list = full.get(t.serviceId);
        if (list === undefined) full.set(t.serviceId, [t]);
        else list.push(t);
      }
    } else {
      for (const id of dirty.services) full.set(id, tx.tasks.scan({ serviceId: id }).filter(isGlobalTask));
    }
    if (full.size > 0) {
      const allNodes = new Map<string, Node | undefined>(tx.nodes.find().map((n) => [n.id, n]));
      for (const [id, tasks] of full) {
        const nodes = new Map(allNodes);
        for (const t of tasks) if (!nodes.has(t.nodeId)) nodes.set(t.nodeId, undefined);
        planGlobal({ ...base, service: tx.services.get(id), nodes, tasks }, plan);
      }
    }
    if (dirty.all) return plan;

    // Single slots: a node for every global service, and slots touched by task events.
    const pairs = new Map<string, Set<string>>();
    const add = (serviceId: string, nodeId: string): void => {
      if (full.has(serviceId)) return;
      let nodes = pairs.get(serviceId);
      if (nodes === undefined) pairs.set(serviceId, (nodes = new Set()));
      nodes.add(nodeId);
    };
    if (dirty.nodes.size > 0) {
      const globals = tx.services.find().filter(isGlobalService);
      for (const nodeId of dirty.nodes) {
        for (const s of globals) add(s.id, nodeId);
        for (const t of tx.tasks.find({ nodeId })) if (isGlobalTask(t)) add(t.serviceId, nodeId);
      }
    }
    for (const [serviceId, nodes] of dirty.pairs) for (const nodeId of nodes) add(serviceId, nodeId);
    for (const [serviceId, nodeIds] of pairs) {
      const nodes = new Map<string, Node | undefined>();
      const tasks: Task[] = [];
      for (const nodeId of nodeIds) {
        nodes.set(nodeId, tx.nodes.get(nodeId));
        tasks.push(...tx.tasks.find({ serviceId, nodeId }).filter(isGlobalTask));
      }
      planGlobal({ ...base, service: tx.services.get(serviceId), nodes, tasks }, plan);
    }
    return plan;
  }
}
