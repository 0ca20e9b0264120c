// The job orchestrator (leader only): runs replicated and global jobs (see reconcile.ts) and
// keeps their runs' outcomes in the service (job-runs.ts). One component for both kinds, as
// SwarmKit's. Restarts of failed tasks are the restart supervisor's, within the run's slots.
//
// What marks a job for the next pass:
// - any event of the job itself (created, spec changed, a new run started, removed: its tasks
//   are removed);
// - a task of a job created or deleted by someone else (a successor, history trimmed), or whose
//   observed state ended or desired state changed (a completion frees room under max_concurrent;
//   a failure may settle the run);
// - for every global job: a node created, deleted, or changed in what decides placement.
// Other task updates (a task moving from PENDING to RUNNING) do not concern it.
import { componentLogger, type Clock, type Logger, type Node, type Task } from "@shoal/shared";
import type { MemoryStore, ObjectEvent, ReadTx, WriteTx } from "../../state/store/index.js";
import { ReconcileLoop } from "../../reconcile/index.js";
import { matchEveryNode, placementKey, type NodeMatcher } from "../node-checks.js";
import { Plan, commitPlan, ownWrites } from "../plan.js";
import { isJobService, isPerNode } from "../task-factory.js";
import { planRemovedTasks } from "../replicated/reconcile.js";
import { hasEnded } from "../task-states.js";
import { settleJobRuns } from "./job-runs.js";
import { planJob } from "./reconcile.js";

export interface JobOrchestratorOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the loop (debounce, retries); the `now` of its decisions. */
  readonly clock: Clock;
  /** Placement constraints of global jobs (the scheduler's parser); default: every node matches. */
  readonly nodeMatches?: NodeMatcher | undefined;
  readonly debounceMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Writes per transaction (see plan.ts). */
  readonly maxWritesPerTx?: number | undefined;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

export class JobOrchestrator {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly nodeMatches: NodeMatcher;
  private readonly maxWrites: number | undefined;
  private readonly newId: (() => string) | undefined;
  private readonly loop: ReconcileLoop;
  private all = false;
  /** Every global job: nodes changed. */
  private perNode = false;
  private dirty = new Set<string>();
  /** What the last pass wrote: the events of its own writes are no news (see ownWrites). */
  private own = ownWrites();

  constructor(options: JobOrchestratorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "orchestrator/jobs");
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
        hasWork: () => this.all || this.perNode || this.dirty.size > 0,
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
    this.perNode = false;
    this.dirty.clear();
  }

  private observe(e: ObjectEvent): void {
    switch (e.table) {
      case "services":
        if (isJobService(e.object) || (e.kind === "update" && isJobService(e.oldObject))) this.dirty.add(e.object.id);
        return;
      case "tasks": {
        const t = e.object;
        if (t.jobIteration === undefined) return;
        if (e.kind === "update" ? concerns(t, e.oldObject) : !this.own.created.has(t.id)) this.dirty.add(t.serviceId);
        return;
      }
      case "nodes":
        if (e.kind !== "update" || placementKey(e.object) !== placementKey(e.oldObject)) this.perNode = true;
        return;
      default:
        return;
    }
  }

  private async pass(signal: AbortSignal): Promise<void> {
    const taken = { all: this.all, perNode: this.perNode, dirty: this.dirty };
    this.all = false;
    this.perNode = false;
    this.dirty = new Set();
    this.own = ownWrites();
    try {
      const plan = await commitPlan(this.store, (tx) => this.plan(tx, taken), {
        signal,
        maxWrites: this.maxWrites,
      });
      this.own = ownWrites(plan);
      if (plan.size > 0) this.logger.debug(plan.summary(), "jobs pass");
    } catch (err: unknown) {
      this.all ||= taken.all;
      this.perNode ||= taken.perNode;
      for (const id of taken.dirty) this.dirty.add(id);
      throw err;
    }
  }

  private plan(tx: WriteTx, dirty: { all: boolean; perNode: boolean; dirty: ReadonlySet<string> }): Plan {
    const now = this.clock.now();
    const plan = new Plan();
    const ids = new Set(dirty.dirty);
    if (dirty.all || dirty.perNode) {
      for (const s of tx.services.find()) if (isJobService(s) && (dirty.all || isPerNode(s))) ids.add(s.id);
    }
    let nodes: Map<string, Node> | undefined;
    for (const id of ids) {
      const service = tx.services.get(id);
      if (service === undefined) {
        // A job removed: its tasks go (the replicated orchestrator would see to slot tasks, the
        // global one does not follow a global job's deletion).
        planRemovedTasks(tx.tasks.find({ serviceId: id }), plan);
        continue;
      }
      if (!isJobService(service)) continue;
      if (isPerNode(service)) nodes ??= new Map(tx.nodes.find().map((n) => [n.id, n]));
      const decision = planJob({
        service,
        tasks: tx.tasks.find({ serviceId: id }),
        nodes,
        nodeMatches: this.nodeMatches,
        now,
        newId: this.newId,
      });
      const settled = settleJobRuns(service, decision.results, now);
      if (settled !== undefined) {
        tx.services.update(settled);
        for (const run of settled.jobStatus?.runs ?? []) {
          const before = service.jobStatus?.runs.find((r) => r.iteration?.index === run.iteration?.index);
          if (before?.outcome !== run.outcome) {
            this.logger.info(
              { serviceId: id, iteration: run.iteration?.index, outcome: run.outcome, succeeded: run.succeeded },
              "job run settled",
            );
          }
        }
      }
      plan.ops.push(...decision.plan.ops);
    }
    return plan;
  }
}

/** Whether a job task's update may change its run: it ended, or its desired state moved. */
function concerns(t: Task, old: Task): boolean {
  return (hasEnded(t) && !hasEnded(old)) || t.desiredState !== old.desiredState;
}
