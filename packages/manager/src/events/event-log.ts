// The cluster's event stream on one manager: one watch on the store turns each applied entry's
// changes into events (cluster-event.ts), keeps the latest in a bounded history (for `since`)
// and hands them to every listener. Each listener has a bounded queue: one that falls behind is
// dropped (its next read throws EventsOverflowError) instead of holding events for it. Every
// manager applies the same entries, so a follower's stream is the leader's.
// It keeps its own watch rather than the ReconcileLoop: it is not a reconciler (it needs every
// event, batched per commit, not what is dirty), and events a dropped watch lost cannot be read
// again, only counted. Event times come from the injected clock. Exec and attach audit records
// (InternalRaftRequest.audit) come from the store as their entry is applied (audit-event.ts).
import {
  ErrorCode,
  ShoalError,
  componentLogger,
  errorMessage,
  type Clock,
  type Event,
  type EventType,
  type Logger,
} from "@shoal/shared";
import { WatchOverflowError, type MemoryStore } from "../state/store/index.js";
import { auditEvent } from "./audit-event.js";
import { EVENT_TABLES, isEventWorthy, toClusterEvent } from "./cluster-event.js";

/** Events kept for `since` by default. */
export const DEFAULT_EVENT_HISTORY = 10_000;
/** Events a listener may have waiting before it is dropped, by default. */
export const DEFAULT_LISTENER_CAPACITY = 10_000;

export class EventsOverflowError extends ShoalError {
  constructor(readonly capacity: number) {
    super(ErrorCode.Unavailable, `events: more than ${capacity} events were waiting for this client; watch anew`, {
      details: { capacity },
    });
  }
}

export interface EventLogOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Stamps each event with the time this manager applied its entry. */
  readonly clock: Clock;
  readonly historySize?: number;
  readonly listenerCapacity?: number;
}

export interface ListenOptions {
  /** Only these types; empty or unset: all. */
  readonly types?: readonly EventType[];
  /** Replay the history at or after this time first. */
  readonly since?: Date | undefined;
}

/** One client's view of the stream: the replayed history, then batches as entries are applied. */
export class EventListener {
  private queue: Event[][] = [];
  private size = 0;
  private waiter: ((batch: Event[] | undefined) => void) | undefined;
  private ended: "closed" | "overflow" | undefined;

  constructor(
    private readonly types: ReadonlySet<EventType> | undefined,
    readonly capacity: number,
    private readonly detach: (l: EventListener) => void,
  ) {}

  /** The next batch; undefined once closed. Throws EventsOverflowError if it fell behind. */
  next(): Promise<Event[] | undefined> {
    if (this.ended === "overflow") return Promise.reject(new EventsOverflowError(this.capacity));
    const batch = this.queue.shift();
    if (batch !== undefined) {
      this.size -= batch.length;
      return Promise.resolve(batch);
    }
    if (this.ended !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Stops listening. Idempotent. */
  close(): void {
    this.end("closed");
  }

  /** @internal */
  deliver(events: readonly Event[]): void {
    if (this.ended !== undefined) return;
    const batch = this.types === undefined ? [...events] : events.filter((e) => this.types!.has(e.type));
    if (batch.length === 0) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w(batch);
      return;
    }
    if (this.size + batch.length > this.capacity) {
      this.end("overflow");
      return;
    }
    this.queue.push(batch);
    this.size += batch.length;
  }

  /** @internal */
  end(reason: "closed" | "overflow"): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.queue = [];
    this.size = 0;
    this.detach(this);
    const w = this.waiter;
    this.waiter = undefined;
    if (w === undefined) return;
    // A waiting reader had nothing queued: it ends quietly, and an overflow could not happen.
    w(undefined);
  }

  /** @internal The history at or after `since`, filtered, for the first read. */
  replay(history: readonly Event[], since: Date): void {
    const t = since.getTime();
    const first = history.findIndex((e) => (e.time?.getTime() ?? 0) >= t);
    if (first >= 0) this.deliver(history.slice(first));
  }
}

export class EventLog {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly historySize: number;
  private history: Event[] = [];
  private readonly listeners = new Set<EventListener>();
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  private stopAudit: (() => void) | undefined;
  /** Events lost because the store's watch dropped this log (counted, logged). */
  lost = 0;

  constructor(private readonly options: EventLogOptions) {
    this.logger = componentLogger(options.logger, "events");
    this.clock = options.clock;
    this.historySize = options.historySize ?? DEFAULT_EVENT_HISTORY;
  }

  /** Starts watching the store, and the audit records of the entries it applies (once). */
  start(): void {
    this.running ??= this.run(this.stopper.signal);
    this.stopAudit ??= this.options.store.onAudit((index, records) => {
      const now = new Date(this.clock.now());
      this.publish(records.map((r) => auditEvent(r, index, now)));
    });
  }

  /** A listener for a client; the history since `since` comes first. */
  listen(options: ListenOptions = {}): EventListener {
    const types = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
    const listener = new EventListener(types, this.options.listenerCapacity ?? DEFAULT_LISTENER_CAPACITY, (l) =>
      this.listeners.delete(l),
    );
    if (options.since !== undefined) listener.replay(this.history, options.since);
    this.listeners.add(listener);
    return listener;
  }

  /** Stops watching and ends every listener. Idempotent. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.stopAudit?.();
    for (const l of [...this.listeners]) l.close();
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const sub = this.options.store.watch({
        tables: EVENT_TABLES,
        peek: isEventWorthy,
        commits: "matched",
        signal,
      });
      let batch: Event[] = [];
      try {
        for await (const change of sub) {
          if (change.kind === "commit") {
            if (batch.length > 0) this.publish(batch);
            batch = [];
          } else if (change.kind !== "resync") {
            const event = toClusterEvent(change, new Date(this.clock.now()));
            if (event !== undefined) batch.push(event);
          }
        }
        return; // the signal aborted or the store closed
      } catch (err: unknown) {
        if (!(err instanceof WatchOverflowError)) {
          this.logger.error({ err: errorMessage(err) }, "event watch failed");
          return;
        }
        this.lost++;
        this.logger.warn("the event log fell behind the store; some events were lost");
      }
    }
  }

  private publish(batch: Event[]): void {
    this.history.push(...batch);
    if (this.history.length > this.historySize) this.history = this.history.slice(-this.historySize);
    for (const l of [...this.listeners]) l.deliver(batch);
  }
}
