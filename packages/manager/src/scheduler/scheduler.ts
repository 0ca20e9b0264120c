// The Scheduler (leader only): assigns pending tasks to nodes. It runs on the shared ReconcileLoop:
// one atomic read and subscription to start, then it keeps the nodes and what their tasks hold in a
// NodeSet fed by store events, and keeps the tasks that wait for a node (task-rules.ts:
// needsPlacement). After a commit that changes something a placement depends on (a new pending
// task, a node that changed, resources or ports freed or taken) the loop runs a pass, debounced on
// the injected clock: `debounceMs` of quiet, at most `maxLatencyMs` after the first such commit. A
// pass places every pending task (pipeline.ts) and writes the result in one transaction (or, past
// `maxWritesPerTransaction` tasks, in several in a row): assigned tasks get their node and
// ASSIGNED; tasks that fit nowhere get PENDING with the reason in status.err, written only when the
// reason changes. A task written over a version other than the one the pass saw fails the store's
// version check: it is skipped and tried again next pass. A pass whose write fails is tried again
// `retryDelayMs` later.
import {
  Backoff,
  NotFoundError,
  SequenceConflictError,
  TaskState,
  TaskStatus,
  componentLogger,
  errorMessage,
  NodeAvailability,
  NodeState,
  type Clock,
  type GenericResource,
  type Logger,
  type Node,
  type Task,
} from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore } from "../state/store/memory-store.js";
import type { ReadTx, WriteTx } from "../state/store/tx.js";
import type { ObjectEvent } from "../state/store/types.js";
import { NodeSet } from "./node-set.js";
import { placeTasks } from "./pipeline.js";
import { needsPlacement } from "./task-rules.js";
import { managerOnly } from "../nodes/manager-node.js";

export interface SchedulerOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Times the debounce and retries; status timestamps and recent failures read it. */
  readonly clock: Clock;
  /** Quiet time after a commit before a pass; default 5 ms. */
  readonly debounceMs?: number;
  /** A pass starts at most this long after the first commit that called for it; default 50 ms. */
  readonly maxLatencyMs?: number;
  /** Wait before the next pass after a write failed; default 250 ms. */
  readonly retryDelayMs?: number;
  /**
   * Task writes per transaction; default 2,000. A pass is written in one transaction unless it
   * has more: then in several, one after another, so that the event loop (raft ticks, heartbeats)
   * is never held for long (10,000 writes took 350 ms of one turn on a loaded 2-core machine) and
   * no raft entry grows to megabytes.
   */
  readonly maxWritesPerTransaction?: number;
  /**
   * Bound of the scheduler's event queue; default 1,000,000. Events wait there while a pass is
   * written (the pass's own writes come back as events too); queued events cost little (the store
   * copies them when they are read). Past the bound the scheduler reads the whole state again.
   */
  readonly watchCapacity?: number;
}

/** Message of a task the scheduler assigned. */
export const ASSIGNED_MESSAGE = "scheduler assigned task to node";
/** Message of a task waiting for a node (the reason is in status.err), as Docker shows it. */
export const PENDING_MESSAGE = "pending task scheduling";

/** What one pass wrote. */
export interface PassStats {
  readonly pending: number;
  readonly assigned: number;
  readonly unplaced: number;
  /** Tasks that changed meanwhile (or whose node did): left for the next pass. */
  readonly skipped: number;
  /** Unplaced tasks whose status was written (new reason). */
  readonly reasonsWritten: number;
  readonly ms: number;
}

export class Scheduler {
  private readonly store: MemoryStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly maxWrites: number;
  private readonly loop: ReconcileLoop;
  private started = false;

  private nodes = new NodeSet();
  /** Tasks waiting for a node, as last seen. */
  private pending = new Map<string, Task>();
  /** Something a placement depends on changed since the last pass. */
  private dirty = false;
  private passes = 0;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.logger = componentLogger(options.logger, "scheduler");
    this.clock = options.clock;
    this.maxWrites = Math.max(1, options.maxWritesPerTransaction ?? 2_000);
    const retryDelayMs = options.retryDelayMs ?? 250;
    this.loop = new ReconcileLoop(
      {
        tables: ["nodes", "tasks"],
        // The scheduler keeps tasks and nodes but never changes them (a placement writes a new
        // object): the store's own, uncopied, as the store never changes what it holds.
        uncopied: true,
        reset: (tx) => this.load(tx),
        observe: (event) => this.handle(event),
        hasWork: () => this.hasWork(),
        pass: (signal) => this.pass(signal),
      },
      {
        store: options.store,
        clock: options.clock,
        logger: this.logger,
        debounceMs: options.debounceMs ?? 5,
        maxDelayMs: options.maxLatencyMs ?? 50,
        retry: new Backoff({ initialMs: retryDelayMs, maxMs: retryDelayMs, jitter: 0 }),
        capacity: options.watchCapacity ?? 1_000_000,
      },
    );
  }

  /** Passes run so far (for tests and metrics). */
  get passCount(): number {
    return this.passes;
  }

  /**
   * Runs until `signal` aborts, `stop()` is called or the store closes. Rejects only on an
   * unexpected error. Runs once: a second call rejects.
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.started) return Promise.reject(new Error("the scheduler runs once"));
    this.started = true;
    this.logger.debug("scheduler starting");
    return this.loop.run(signal).finally(() => this.logger.debug("scheduler stopped"));
  }

  /** Stops the scheduler; resolves once it has stopped (a write in flight is awaited). Idempotent. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Reads the whole state (at start, after an overflow or a resync). */
  /** Reads nodes and tasks at once; counts them in slices (a leader's 100,000 tasks take a while). */
  private load(tx: ReadTx): Iterator<unknown> {
    this.nodes = new NodeSet();
    this.pending = new Map();
    this.dirty = false;
    return this.count(tx.nodes.scan(), tx.tasks.scan());
  }

  private *count(nodes: readonly Node[], tasks: readonly Task[]): Generator<undefined, void, void> {
    for (const node of nodes) this.nodes.setNode(node);
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      if (needsPlacement(task)) this.pending.set(task.id, task);
      else this.nodes.setTask(task);
      if (i % 1024 === 1023) yield;
    }
    this.dirty = this.pending.size > 0;
    this.logger.info({ nodes: nodes.length, pending: this.pending.size }, "scheduler loaded state");
  }

  /** A pass is due when something changed and a task waits for a node. */
  private hasWork(): boolean {
    if (this.pending.size === 0) this.dirty = false;
    return this.dirty;
  }

  private handle(event: ObjectEvent): void {
    switch (event.kind) {
      case "delete":
        if (event.table === "nodes") {
          this.nodes.deleteNode(event.object.id);
          this.dirty = true;
        } else if (event.table === "tasks") {
          this.pending.delete(event.object.id);
          if (this.nodes.deleteTask(event.object.id)) this.dirty = true;
        }
        return;
      case "create":
      case "update":
        if (event.table === "nodes") {
          this.nodes.setNode(event.object);
          this.dirty = true;
        } else if (event.table === "tasks") {
          this.taskChanged(event.object);
        }
        return;
    }
  }

  private taskChanged(task: Task): void {
    if (needsPlacement(task)) {
      const before = this.pending.get(task.id);
      this.pending.set(task.id, task);
      if (this.nodes.deleteTask(task.id)) this.dirty = true;
      // Our own PENDING writes come back here: they need no new pass.
      if (before === undefined || before.nodeId !== task.nodeId) this.dirty = true;
      return;
    }
    this.pending.delete(task.id);
    if (this.nodes.setTask(task)) this.dirty = true;
  }

  /**
   * One pass: place every pending task, then write the outcome: one transaction, or one per
   * `maxWritesPerTransaction` tasks for a very large pass. A failed write throws: the loop tries
   * again after `retryDelayMs`.
   */
  private async pass(signal: AbortSignal): Promise<void> {
    this.dirty = false;
    if (this.pending.size === 0) return;
    this.passes++;
    const started = performance.now();
    const now = this.clock.now();
    const result = placeTasks(this.nodes, [...this.pending.values()], now);
    // Each write carries the task as the pass saw it: the version it writes over.
    const writes: Write[] = [];
    for (const [id, nodeId] of result.assignments)
      writes.push({ task: this.pending.get(id)!, nodeId, reason: undefined, generic: result.generic.get(id) });
    for (const [id, reason] of result.unplaced) {
      const task = this.pending.get(id)!;
      // Only a new reason is written: an unplaceable task costs no write per pass.
      if (task.status?.state !== TaskState.PENDING || task.status.err !== reason) {
        writes.push({ task, nodeId: undefined, reason });
      }
    }
    const totals = { assigned: 0, skipped: 0, reasonsWritten: 0 };
    let written = 0;
    try {
      while (written < writes.length) {
        const chunk = writes.slice(written, written + this.maxWrites);
        const outcome = await this.store.update((tx) => this.write(tx, chunk, now), { signal });
        written += chunk.length;
        for (const id of outcome.assigned) this.pending.delete(id);
        for (const id of outcome.skipped) this.nodes.deleteTask(id);
        totals.assigned += outcome.assigned.length;
        totals.skipped += outcome.skipped.length;
        totals.reasonsWritten += outcome.reasonsWritten;
      }
    } catch (err: unknown) {
      // Take back the placements not written (if the entry commits after all, its events bring them).
      for (const w of writes.slice(written)) if (w.nodeId !== undefined) this.nodes.deleteTask(w.task.id);
      if (signal.aborted) return;
      this.logger.warn({ err: errorMessage(err), pending: this.pending.size }, "scheduler could not write its pass");
      this.dirty = true;
      throw err;
    }
    // Their changes are on the way as events (read before the next pass): try them again then.
    if (totals.skipped > 0) this.dirty = true;
    const stats: PassStats = {
      pending: result.assignments.size + result.unplaced.size,
      ...totals,
      unplaced: result.unplaced.size,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    this.logger[stats.assigned > 0 || stats.reasonsWritten > 0 ? "info" : "debug"](stats, "scheduler pass");
  }

  /**
   * One transaction of a pass. Writes each task from the copy the pass saw, with that copy's
   * version: a task that changed meanwhile fails the store's version check and is skipped (so is an
   * assignment to a node that, as the transaction sees it, no longer takes tasks).
   */
  private write(tx: WriteTx, writes: readonly Write[], now: number): WriteOutcome {
    const out: WriteOutcome = { assigned: [], skipped: [], reasonsWritten: 0 };
    const nodeOk = new Map<string, boolean>();
    const timestamp = new Date(now);
    for (const { task, nodeId, reason, generic } of writes) {
      if (nodeId !== undefined) {
        let ok = nodeOk.get(nodeId);
        if (ok === undefined) nodeOk.set(nodeId, (ok = takesTasks(tx.nodes.get(nodeId))));
        if (ok && put(tx, task, nodeId, TaskState.ASSIGNED, ASSIGNED_MESSAGE, "", timestamp, generic))
          out.assigned.push(task.id);
        else out.skipped.push(task.id);
      } else if (put(tx, task, task.nodeId, TaskState.PENDING, PENDING_MESSAGE, reason, timestamp)) {
        out.reasonsWritten++;
      }
    }
    return out;
  }
}

/**
 * Writes `seen` with a new node and status (and the generic resources it is given there, if any);
 * false if the store has another version of it (or none).
 */
function put(
  tx: WriteTx,
  seen: Task,
  nodeId: string,
  state: TaskState,
  message: string,
  err: string,
  timestamp: Date,
  generic?: GenericResource[],
): boolean {
  const status = { ...(seen.status ?? TaskStatus.create()), timestamp, state, message, err };
  const assignedGenericResources = generic ?? seen.assignedGenericResources;
  try {
    tx.tasks.update({ ...seen, nodeId, status, assignedGenericResources }); // the store keeps its own copy
    return true;
  } catch (e: unknown) {
    if (e instanceof SequenceConflictError || e instanceof NotFoundError) return false;
    throw e;
  }
}

/** An assignment (nodeId, and the generic resources given) or a new reason to write. */
type Write =
  | {
      readonly task: Task;
      readonly nodeId: string;
      readonly reason: undefined;
      readonly generic: GenericResource[] | undefined;
    }
  | { readonly task: Task; readonly nodeId: undefined; readonly reason: string; readonly generic?: undefined };

interface WriteOutcome {
  readonly assigned: string[];
  readonly skipped: string[];
  reasonsWritten: number;
}

/** The node as the transaction sees it can take new tasks. */
function takesTasks(node: Node | undefined): boolean {
  return (
    node !== undefined &&
    node.status?.state === NodeState.READY &&
    !managerOnly(node) &&
    (node.spec?.availability ?? NodeAvailability.ACTIVE) === NodeAvailability.ACTIVE
  );
}
