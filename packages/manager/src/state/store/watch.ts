// Watching the store: each subscription has its own bounded queue of events, filled after each
// applied entry. The store never waits for a subscriber: one whose queue would overflow is dropped
// (closed with reason "overflow"; its next read throws WatchOverflowError) and must read the state
// again and subscribe anew. Queued events hold the store's immutable objects and are copied when
// the subscriber takes them, so a queue costs little memory and a dropped subscriber no copying.
import { ErrorCode, ShoalError } from "@shoal/shared";
import type { AppliedChange } from "./apply.js";
import { copyObject } from "./tables.js";
import type { ObjectEvent, ObjectEventKind, StoreEvent, TableName, TableTypes } from "./types.js";

/** Events a subscription may queue before it is dropped (one entry's events always fit an empty queue). */
export const DEFAULT_WATCH_CAPACITY = 50_000;

export interface WatchOptions {
  /** Only events of these tables (default: all). */
  readonly tables?: readonly TableName[] | undefined;
  /** Only these kinds of object events (default: all). */
  readonly kinds?: readonly ObjectEventKind[] | undefined;
  /**
   * A finer filter, called with the subscriber's copy of each event when it is queued. Keep it
   * cheap and pure: it runs while the store applies an entry.
   */
  readonly match?: ((event: ObjectEvent) => boolean) | undefined;
  /**
   * A filter that runs before anything is copied, on the store's own objects (the new one, and
   * the old one for an update): read them, never change or keep them. For subscribers that want
   * few of many events (an agent's session wants its node's tasks only), it saves a copy of
   * every other event.
   */
  readonly peek?: ((table: TableName, object: unknown, oldObject: unknown) => boolean) | undefined;
  /**
   * Events carry the store's own objects, not copies, as SwarmKit's watches do: read them, never
   * change them (the store replaces objects and never changes one it holds, so they may be kept).
   * For subscribers that only note what changed (the orchestrators mark services and slots
   * dirty): with 100,000 tasks, every subscriber's copies of every task event were most of the
   * leader's work.
   */
  readonly uncopied?: boolean | undefined;
  /**
   * Whether commit events are queued: "always" (default) after every entry, "matched" only after
   * entries that queued an object event for this subscription, "never".
   */
  readonly commits?: "always" | "matched" | "never" | undefined;
  /** Queue bound in events; default DEFAULT_WATCH_CAPACITY. */
  readonly capacity?: number | undefined;
  /** Closes the subscription (reason "aborted"). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Why a subscription ended: its owner closed it, its signal aborted, it fell behind ("overflow":
 * reads throw WatchOverflowError), the store closed, or its `match` threw (reads throw that error).
 */
export type CloseReason = "closed" | "aborted" | "overflow" | "store-closed" | "match-failed";

/** The subscriber fell behind: events were lost. Read the state again and watch anew. */
export class WatchOverflowError extends ShoalError {
  constructor(readonly capacity: number) {
    super(
      ErrorCode.Unavailable,
      `watch dropped: more than ${capacity} events were waiting; read the state again and watch anew`,
      { details: { capacity } },
    );
  }
}

/** A queued change that has not been copied yet. */
class Pending {
  private shared: ObjectEvent | undefined;

  constructor(
    readonly index: number,
    readonly change: AppliedChange,
  ) {}

  /** The event with copies of the objects, or (uncopied) one event with the store's own, shared. */
  materialize(copied = true): ObjectEvent {
    if (copied) return toEvent(this.index, this.change, true);
    return (this.shared ??= toEvent(this.index, this.change, false));
  }
}

function toEvent(index: number, change: AppliedChange, copied: boolean): ObjectEvent {
  const table = change.table;
  const copy = (obj: unknown): TableTypes[typeof table] =>
    copied ? copyObject(table, obj as TableTypes[typeof table]) : (obj as TableTypes[typeof table]);
  const base = { index, table, object: copy(change.object) };
  const event =
    change.kind === "update"
      ? { ...base, kind: change.kind, oldObject: copy(change.oldObject) }
      : { ...base, kind: change.kind };
  return event as ObjectEvent;
}

type Queued = StoreEvent | Pending;

/**
 * What one applied entry did, as every subscription queues it: one Pending per change and one
 * commit event, made on first use and shared (they are immutable; a subscriber gets its own copy
 * of an object when it takes the event), so an entry costs no allocation per subscriber.
 */
export class AppliedEntry {
  private readonly pendings: (Pending | undefined)[];
  private commitEvent: StoreEvent | undefined;

  constructor(
    readonly index: number,
    readonly changes: readonly AppliedChange[],
  ) {
    this.pendings = new Array<Pending | undefined>(changes.length);
  }

  pending(i: number): Pending {
    return (this.pendings[i] ??= new Pending(this.index, this.changes[i]!));
  }

  get commit(): StoreEvent {
    return (this.commitEvent ??= { kind: "commit", index: this.index });
  }
}

export class Subscription implements AsyncIterableIterator<StoreEvent> {
  readonly capacity: number;
  private queue: Queued[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<StoreEvent>) => void; reject: (e: unknown) => void } | undefined;
  private reason: CloseReason | undefined;
  private failure: unknown;
  private readonly tables: ReadonlySet<TableName> | undefined;
  private readonly kinds: ReadonlySet<ObjectEventKind> | undefined;
  private readonly onAbort = (): void => this.end("aborted");

  /** @internal The store makes subscriptions; `detach` takes this one off its list. */
  constructor(
    private readonly options: WatchOptions,
    defaultCapacity: number,
    private readonly detach: (sub: Subscription) => void,
  ) {
    this.capacity = options.capacity ?? defaultCapacity;
    if (!Number.isInteger(this.capacity) || this.capacity < 1)
      throw new RangeError("watch capacity must be a positive integer");
    this.tables = options.tables === undefined ? undefined : new Set(options.tables);
    this.kinds = options.kinds === undefined ? undefined : new Set(options.kinds);
    if (options.signal?.aborted) this.reason = "aborted";
    else options.signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Why the subscription ended; undefined while it is open. */
  get closeReason(): CloseReason | undefined {
    return this.reason;
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  /** Events waiting to be taken. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** The next event, waiting for one. Done once closed; throws WatchOverflowError if dropped. */
  next(): Promise<IteratorResult<StoreEvent>> {
    if (this.failed()) return Promise.reject(this.error());
    const event = this.take();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.reason !== undefined) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== undefined) return Promise.reject(new Error("a subscription has one reader at a time"));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Every event waiting now, without waiting for more (reconcile a whole burst at once). */
  drain(): StoreEvent[] {
    if (this.failed()) throw this.error();
    const out: StoreEvent[] = [];
    for (let e = this.take(); e !== undefined; e = this.take()) out.push(e);
    return out;
  }

  /** Ends the subscription; events still queued are dropped. Idempotent. */
  close(): void {
    this.end("closed");
  }

  return(): Promise<IteratorResult<StoreEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** @internal Queues what one applied entry did, as far as this subscription wants it. */
  deliver(entry: AppliedEntry): void {
    if (this.reason !== undefined) return;
    const { index, changes } = entry;
    const items: Queued[] = [];
    const { match } = this.options;
    const { peek } = this.options;
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i]!;
      if (this.tables !== undefined && !this.tables.has(change.table)) continue;
      if (this.kinds !== undefined && !this.kinds.has(change.kind)) continue;
      if (peek !== undefined) {
        let wanted: boolean;
        try {
          wanted = peek(change.table, change.object, change.oldObject);
        } catch (err: unknown) {
          this.failure = err;
          this.end("match-failed");
          return;
        }
        if (!wanted) continue;
      }
      if (match === undefined) {
        items.push(entry.pending(i));
      } else {
        const event = toEvent(index, change, this.options.uncopied !== true);
        let matched: boolean;
        try {
          matched = match(event);
        } catch (err: unknown) {
          this.failure = err;
          this.end("match-failed");
          return;
        }
        if (matched) items.push(event);
      }
    }
    const commits = this.options.commits ?? "always";
    if (commits === "always" || (commits === "matched" && items.length > 0)) items.push(entry.commit);
    if (items.length === 0) return;
    if (this.size > 0 && this.size + items.length > this.capacity) {
      this.end("overflow");
      return;
    }
    for (const item of items) this.queue.push(item);
    this.wake();
  }

  /** @internal The state was replaced: what is queued is void; the subscriber must read it again. */
  resync(index: number): void {
    if (this.reason !== undefined) return;
    this.queue = [{ kind: "resync", index }];
    this.head = 0;
    this.wake();
  }

  /** @internal */
  end(reason: CloseReason): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.queue = [];
    this.head = 0;
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.detach(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    if (this.failed()) waiter.reject(this.error());
    else waiter.resolve({ value: undefined, done: true });
  }

  private failed(): boolean {
    return this.reason === "overflow" || this.reason === "match-failed";
  }

  private error(): unknown {
    return this.reason === "overflow" ? new WatchOverflowError(this.capacity) : this.failure;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (waiter === undefined) return;
    const event = this.take();
    if (event === undefined) return;
    this.waiter = undefined;
    waiter.resolve({ value: event, done: false });
  }

  private take(): StoreEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as Queued; // let it be collected
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item instanceof Pending ? item.materialize(this.options.uncopied !== true) : item;
  }
}
