// The run loop shared by every component that follows the store and reconciles (orchestrators,
// scheduler, CA rotation, the per-manager followers): start from one atomic read-and-subscribe,
// collect what store events make dirty, and reconcile once per commit (or burst of commits), not
// once per event.
//
// - Start: `viewAndWatch` reads the state (the component marks everything dirty) and subscribes
//   at the same point, so no change is missed or seen twice.
// - Events: each drained burst ends on a commit (the store queues an entry's events together), so
//   a pass never sees half an entry. With `debounceMs` > 0 the loop waits until no event came for
//   that long, but never longer than `maxDelayMs` after the first dirty event.
// - A resync event (the store was replaced by a snapshot) or a dropped subscription (overflow)
//   makes the loop read everything again and subscribe anew.
// - A failed pass (not the leader any more, store closed, a conflict) is logged and retried after a
//   backoff; its work stays dirty.
// - The first read and each pass wait for a turn of the event loop of their own (turns.ts).
// - Timers (restart delays) ask for a pass with `kick()`.
// `stop()` is idempotent and waits for the loop to end; so does aborting the signal given to run.
import { Backoff, errorMessage, type Clock, type Logger, type Timer } from "@shoal/shared";
import {
  WatchOverflowError,
  type MemoryStore,
  type ObjectEvent,
  type ObjectEventKind,
  type ReadTx,
  type StoreEvent,
  type Subscription,
  type TableName,
  type WatchOptions,
} from "../state/store/index.js";
import { nextTurn } from "./turns.js";

/** What a component plugs into the loop. */
export interface Reconciler {
  /** Tables whose events matter. */
  readonly tables: readonly TableName[];
  /** Kinds of events that matter (default: all). Each event is copied for its subscriber: skip what is not needed. */
  readonly kinds?: readonly ObjectEventKind[] | undefined;
  /** A finer filter on the store's own objects, before anything is copied (WatchOptions.peek). */
  readonly peek?: WatchOptions["peek"];
  /** Events with the store's own objects (WatchOptions.uncopied): for an observe that only reads. */
  readonly uncopied?: boolean;
  /**
   * At start, and after a resync: forget what was dirty and mark everything dirty. A reset with
   * much to go through may return an iterator instead of doing it all at once: the loop runs it to
   * its end in slices of about RESET_SLICE_MS, each in a turn of the event loop of its own, before
   * any event or pass. The transaction ends when reset returns: the iterator works on what reset
   * read from it (the store's objects never change, so a scan's array is a snapshot).
   */
  reset(tx: ReadTx): void | Iterator<unknown>;
  /** Notes what one event makes dirty (cheap: no store reads). */
  observe(event: ObjectEvent): void;
  /** Whether a pass has work to do. */
  hasWork(): boolean;
  /** Reconciles what is dirty and writes the result; takes the dirty set at its start. */
  pass(signal: AbortSignal): Promise<void>;
  /** Called once when the loop ends (cancel timers). */
  stopped?(): void;
}

export interface LoopOptions {
  readonly store: MemoryStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Quiet time awaited before a pass; default 0 (a pass as soon as the burst is read). */
  readonly debounceMs?: number | undefined;
  /** Latency cap of the debounce: the longest wait after the first dirty event; default 1 s. */
  readonly maxDelayMs?: number | undefined;
  /** Retry delays after a failed pass; default 100 ms growing to 5 s. */
  readonly retry?: Backoff | undefined;
  /** Bound of the watch queue (WatchOptions.capacity); past it the loop reads everything again. */
  readonly capacity?: number | undefined;
}

/** How long a slice of a reset's work runs before the loop lets other work in (see Reconciler.reset). */
export const RESET_SLICE_MS = 20;

type Next =
  | { readonly kind: "next"; readonly result: IteratorResult<StoreEvent> }
  | { readonly kind: "error"; readonly error: unknown };

export class ReconcileLoop {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly retry: Backoff;
  private readonly capacity: number | undefined;
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  private wake: { promise: Promise<void>; resolve: () => void } = wakeSignal();
  private retryAt = 0;
  private lastEventAt = 0;

  constructor(
    private readonly reconciler: Reconciler,
    options: LoopOptions,
  ) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.debounceMs = Math.max(0, options.debounceMs ?? 0);
    this.maxDelayMs = Math.max(this.debounceMs, options.maxDelayMs ?? 1_000);
    this.retry = options.retry ?? new Backoff({ initialMs: 100, maxMs: 5_000 });
    this.capacity = options.capacity;
  }

  /** Runs until `signal` aborts or `stop()` is called. Only one run per loop. */
  run(signal?: AbortSignal): Promise<void> {
    if (this.running !== undefined)
      return Promise.reject(new Error("this component has been run already: make a new one"));
    const stop = signal === undefined ? this.stopper.signal : AbortSignal.any([signal, this.stopper.signal]);
    const onAbort = (): void => this.kick();
    stop.addEventListener("abort", onAbort, { once: true });
    this.running = this.loop(stop).finally(() => {
      stop.removeEventListener("abort", onAbort);
      this.reconciler.stopped?.();
    });
    return this.running;
  }

  /** Asks for a pass soon (a timer fired, say). */
  kick(): void {
    this.wake.resolve();
  }

  /** Stops the loop and waits for it to end. Idempotent. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.kick();
    await this.running?.catch(() => undefined);
  }

  private async subscribe(signal: AbortSignal): Promise<Subscription> {
    const { result, subscription } = this.store.viewAndWatch((tx) => this.reconciler.reset(tx), {
      tables: this.reconciler.tables,
      kinds: this.reconciler.kinds,
      peek: this.reconciler.peek,
      uncopied: this.reconciler.uncopied,
      capacity: this.capacity,
      commits: "never",
      signal,
    });
    // The events after the read wait in the subscription while the rest of the reset runs.
    if (result !== undefined) await this.finishReset(result, signal);
    this.lastEventAt = this.clock.now();
    return subscription;
  }

  /** Runs a reset's iterator to its end, yielding the event loop every RESET_SLICE_MS or so. */
  private async finishReset(work: Iterator<unknown>, signal: AbortSignal): Promise<void> {
    let sliceStart = this.clock.now();
    while (!signal.aborted && work.next().done !== true) {
      if (this.clock.now() - sliceStart < RESET_SLICE_MS) continue;
      await nextTurn();
      sliceStart = this.clock.now();
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    // The read of the whole state, and each pass, in a turn of the event loop of its own: the
    // leader's components start and wake together, and their work back to back held the loop.
    await nextTurn();
    if (signal.aborted) return;
    let sub = await this.subscribe(signal);
    // One next() at a time on the subscription; its result lands in `arrived` and wakes the loop,
    // so that waiting for events and for kicks is one wait (no race re-armed on every turn).
    let reading: Subscription | undefined;
    let arrived: Next | undefined;
    let firstDirtyAt: number | undefined;
    let timer: Timer | undefined;
    try {
      while (!signal.aborted) {
        const taken = arrived;
        arrived = undefined;
        if (taken !== undefined) reading = undefined;
        const read = this.read(sub, taken);
        if (read === "ended") {
          if (!signal.aborted) this.logger.info({ reason: sub.closeReason }, "watch ended: stopping");
          return;
        }
        if (read === "resync") {
          sub.close();
          reading = undefined;
          firstDirtyAt = undefined;
          sub = await this.subscribe(signal);
          continue;
        }
        timer?.cancel();
        timer = undefined;
        if (this.reconciler.hasWork()) {
          const now = this.clock.now();
          firstDirtyAt ??= now;
          const quiet = Math.min(this.lastEventAt + this.debounceMs, firstDirtyAt + this.maxDelayMs);
          const due = Math.max(this.retryAt, quiet);
          if (now >= due) {
            firstDirtyAt = undefined;
            await nextTurn();
            if (signal.aborted) break;
            await this.runPass(signal);
            continue;
          }
          timer = this.clock.setTimeout(() => this.kick(), due - now);
        }
        if (reading !== sub) {
          const current = (reading = sub);
          void nextOf(current).then((r) => {
            if (reading !== current) return; // a subscription given up meanwhile
            arrived = r;
            this.kick();
          });
        }
        await this.wake.promise;
        this.wake = wakeSignal();
      }
    } finally {
      timer?.cancel();
      sub.close();
    }
  }

  /** Feeds the reconciler `taken` (a result of next()) and every event queued after it. */
  private read(sub: Subscription, taken: Next | undefined): "ok" | "resync" | "ended" {
    const events: StoreEvent[] = [];
    if (taken !== undefined) {
      if (taken.kind === "error") {
        if (!(taken.error instanceof WatchOverflowError)) throw taken.error;
        this.logger.warn({ capacity: taken.error.capacity }, "watch dropped: reading the state again");
        return "resync";
      }
      if (taken.result.done === true) return sub.closeReason === "overflow" ? "resync" : "ended";
      events.push(taken.result.value);
    }
    try {
      events.push(...sub.drain());
    } catch (err: unknown) {
      if (!(err instanceof WatchOverflowError)) throw err;
      this.logger.warn({ capacity: err.capacity }, "watch dropped: reading the state again");
      return "resync";
    }
    if (events.some((e) => e.kind === "resync")) return "resync";
    for (const event of events) if (event.kind !== "commit") this.reconciler.observe(event as ObjectEvent);
    if (events.length > 0) this.lastEventAt = this.clock.now();
    if (sub.closed && sub.size === 0 && events.length === 0 && taken === undefined) {
      return sub.closeReason === "overflow" ? "resync" : "ended";
    }
    return "ok";
  }

  private async runPass(signal: AbortSignal): Promise<void> {
    try {
      await this.reconciler.pass(signal);
      this.retry.reset();
      this.retryAt = 0;
    } catch (err: unknown) {
      if (signal.aborted) return;
      const delay = this.retry.next();
      this.retryAt = this.clock.now() + delay;
      this.logger.warn({ err: errorMessage(err), retryInMs: delay }, "reconcile pass failed; retrying");
    }
  }
}

function wakeSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function nextOf(sub: Subscription): Promise<Next> {
  return sub.next().then(
    (result): Next => ({ kind: "next", result }),
    (error: unknown): Next => ({ kind: "error", error }),
  );
}
