// What the dashboard shows, from this manager's replica of the store: the state (/api/v1/state)
// and its changes (/api/v1/watch). One store watch serves every browser: the changes of each
// applied entry become one ChangeBatch, turned into views and serialised once, kept for a while
// (a page that read the state a moment ago catches up from them) and written to every watcher.
// A watcher that asks for changes older than those kept, or whose connection does not keep up
// (serve.ts cuts it off), is told to resync: read the state again.
import { componentLogger, errorMessage, type Logger } from "@shoal/shared";
import { WatchOverflowError, type MemoryStore } from "../state/store/index.js";
import type { ObjectEvent, TableName } from "../state/store/types.js";
import type { Change, ChangeBatch, StateSnapshot } from "./dashboard-package.js";
import { isCurrentTask, nodeView, serviceView, taskView } from "./views.js";

const TABLES: readonly TableName[] = ["nodes", "services", "tasks"];
/** Batches kept for watchers that start a little behind. */
export const DEFAULT_KEPT_BATCHES = 2000;

/** A change as the page sees it, or undefined when the page does not care. */
export function changeOf(e: ObjectEvent): Change | undefined {
  switch (e.table) {
    case "nodes":
      return e.kind === "delete"
        ? { kind: "node", action: "remove", id: e.object.id }
        : { kind: "node", action: "upsert", object: nodeView(e.object) };
    case "services":
      return e.kind === "delete"
        ? { kind: "service", action: "remove", id: e.object.id }
        : { kind: "service", action: "upsert", object: serviceView(e.object) };
    case "tasks": {
      const task = e.object;
      if (e.kind !== "delete" && isCurrentTask(task)) return { kind: "task", action: "upsert", object: taskView(task) };
      const was = e.kind === "create" ? false : e.kind === "delete" ? true : isCurrentTask(e.oldObject);
      return was ? { kind: "task", action: "remove", id: task.id } : undefined;
    }
    default:
      return undefined;
  }
}

/** One watcher: gets each batch's SSE text, or resync() once it can no longer follow. */
export interface FeedWatcher {
  readonly since: number;
  write(index: number, text: string): void;
  resync(): void;
}

export interface StateIdentity {
  readonly clusterId: string;
  readonly managerNodeId: string;
  readonly isLeader: boolean;
}

export class DashboardFeed {
  private readonly logger: Logger;
  private kept: { readonly index: number; readonly text: string }[] = [];
  /** Watchers that start at or after this index can be served from `kept`. */
  private coveredFrom = Number.POSITIVE_INFINITY;
  private readonly watchers = new Set<FeedWatcher>();
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: MemoryStore,
    logger: Logger,
    private readonly keptBatches = DEFAULT_KEPT_BATCHES,
  ) {
    this.logger = componentLogger(logger, "dashboard-feed");
  }

  start(): void {
    this.running ??= this.run(this.stopper.signal);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.resyncAll();
    await this.running;
  }

  /** The state now, with the applied index it was read at. */
  snapshot(identity: StateIdentity): StateSnapshot {
    return this.store.view((tx) => ({
      ...identity,
      index: this.store.appliedIndex,
      nodes: tx.nodes.find().map(nodeView),
      services: tx.services.find().map(serviceView),
      tasks: tx.tasks
        .find()
        .filter(isCurrentTask)
        .map((t) => taskView(t)),
    }));
  }

  /** Starts `watcher` after its `since`; it is resynced at once if that is too far back. Returns its stop. */
  watch(watcher: FeedWatcher): () => void {
    if (watcher.since < this.coveredFrom || watcher.since > this.store.appliedIndex || this.stopper.signal.aborted) {
      watcher.resync();
      return () => {};
    }
    for (const b of this.kept) if (b.index > watcher.since) watcher.write(b.index, b.text);
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const { subscription: sub, result: index } = this.store.viewAndWatch(() => this.store.appliedIndex, {
        tables: TABLES,
        commits: "matched",
        signal,
      });
      this.kept = [];
      this.coveredFrom = index;
      let changes: Change[] = [];
      try {
        for await (const e of sub) {
          if (e.kind === "commit") {
            if (changes.length > 0) this.publish({ index: e.index, changes });
            changes = [];
          } else if (e.kind === "resync") {
            break;
          } else {
            const change = changeOf(e);
            if (change) changes.push(change);
          }
        }
        sub.close();
        if (signal.aborted) return;
      } catch (err: unknown) {
        if (!(err instanceof WatchOverflowError)) {
          this.logger.error({ err: errorMessage(err) }, "dashboard watch failed");
          this.resyncAll();
          return;
        }
        this.logger.warn("the dashboard's watch fell behind the store: browsers read the state again");
      }
      this.resyncAll();
    }
  }

  private publish(batch: ChangeBatch): void {
    const text = `event: change\nid: ${batch.index}\ndata: ${JSON.stringify(batch)}\n\n`;
    this.kept.push({ index: batch.index, text });
    if (this.kept.length > this.keptBatches) {
      const dropped = this.kept.splice(0, this.kept.length - this.keptBatches);
      this.coveredFrom = dropped.at(-1)!.index;
    }
    for (const w of [...this.watchers]) if (batch.index > w.since) w.write(batch.index, text);
  }

  private resyncAll(): void {
    for (const w of [...this.watchers]) w.resync();
    this.watchers.clear();
  }
}
