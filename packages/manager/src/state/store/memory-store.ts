// The manager's store: the cluster state, replicated by Raft, held in memory.
//
// Writes: `update(fn)` runs `fn` on a transaction, proposes its changes as one entry and resolves
// once that entry is committed and applied here. The store itself changes only in `applyEntry`,
// which every manager calls for every committed entry in index order (the leader's own entries
// too), so all managers apply the same entries the same way; a transaction never writes to the
// store directly, which is why the leader cannot apply an entry twice. Updates run one at a time:
// each transaction sees the result of the previous one, so its checks (versions, free ids and
// names) hold when its entry is applied; apply checks them again all the same (see apply.ts),
// which keeps the store consistent if a leader change lets a stale entry through.
//
// Reads: `view(fn)` runs `fn` on the state as it is; every object read is a copy. Watches get
// events after each applied entry (see watch.ts); `viewAndWatch` reads and subscribes at one point.
import {
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  UnavailableError,
  raceAbort,
  systemClock,
  throwIfAborted,
  type AuditRecord,
  type Clock,
  type InternalRaftRequest,
  type Logger,
  type StoreAction,
} from "@shoal/shared";
import { applyActions, type AppliedChange } from "./apply.js";
import { LocalProposer, type EntryApplier, type Proposer } from "./proposer.js";
import { SnapshotEncoder, capture, decodeSnapshot, encodeSnapshot } from "./snapshot.js";
import { createTables, type Tables } from "./tables.js";
import { Transaction, type ReadTx, type WriteTx } from "./tx.js";
import { storeTime } from "./types.js";
import { AppliedEntry, DEFAULT_WATCH_CAPACITY, Subscription, type WatchOptions } from "./watch.js";

export interface MemoryStoreOptions {
  /** Commits transactions; default: a LocalProposer that applies to this store alone. */
  readonly proposer?: Proposer;
  /** Source of created_at/updated_at; read only when a transaction starts. Default: the system clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Default queue bound of subscriptions, in events. */
  readonly watchCapacity?: number;
}

export interface UpdateOptions {
  /** Abandons the update while it waits its turn or for the proposer (not once committed). */
  readonly signal?: AbortSignal;
  /** Let the next update start once this one is proposed (see update()). Default false. */
  readonly pipelined?: boolean;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class MemoryStore implements EntryApplier {
  private tables: Tables = createTables();
  private applied = 0;
  private readonly proposer: Proposer;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly watchCapacity: number;
  private readonly subscriptions = new Set<Subscription>();
  private readonly auditListeners = new Set<(index: number, records: readonly AuditRecord[]) => void>();
  /** Settles when the update before the next one is done: updates run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Updates whose entry has an index and waits to be applied. */
  private readonly waiters = new Map<number, Waiter>();
  /** Proposals not yet given an index; while any, outcomes of applied entries are kept for them. */
  private proposing = 0;
  private readonly outcomes = new Map<number, ShoalError | undefined>();
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    if (options.proposer === undefined) {
      const local = new LocalProposer();
      local.attach(this);
      this.proposer = local;
    } else {
      this.proposer = options.proposer;
    }
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger?.child({ component: "store" });
    this.watchCapacity = options.watchCapacity ?? DEFAULT_WATCH_CAPACITY;
  }

  /** Index of the last entry applied (or of the snapshot restored). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** Runs `fn` on the current state. `fn` must be synchronous; the transaction dies when it returns. */
  view<T>(fn: (tx: ReadTx) => T): T {
    const tx = new Transaction(this.tables);
    try {
      return mustBeSync(fn(tx.tx), "view");
    } finally {
      tx.close();
    }
  }

  /**
   * Runs `fn` on a transaction once the updates before it are done, proposes its changes as one
   * entry, and resolves with `fn`'s result once the entry is committed and applied here. If `fn`
   * throws, or the proposer fails, or the entry is rejected when applied, the promise rejects and
   * nothing changed (a proposer that fails after all may yet commit the entry: that is Raft's
   * ambiguity, which versions make harmless to retry). A transaction that changes nothing is not
   * proposed. `fn` must be synchronous.
   *
   * With `pipelined`, the next update may run as soon as this one is proposed rather than applied:
   * it then sees the applied state without this entry, and apply's checks (versions, free ids and
   * names) turn a write built on changed state into a conflict instead of letting it overwrite.
   * Meant for writes whose conflicts are the caller's to see anyway (client writes that carry the
   * version they read); read-modify-write loops inside the manager keep the default.
   */
  update<T>(fn: (tx: WriteTx) => T, options: UpdateOptions = {}): Promise<T> {
    const { signal, pipelined = false } = options;
    const previous = this.tail;
    let proposed!: () => void;
    const turn = new Promise<void>((resolve) => (proposed = resolve));
    const run = (async () => {
      try {
        await raceAbort(previous, signal); // an abort while waiting for its turn rejects at once
      } catch (err: unknown) {
        proposed();
        throw err;
      }
      return this.runUpdate(fn, signal, proposed);
    })();
    // The next update waits until this one is done (pipelined: proposed), or given up, and for the
    // ones before it even if this one was abandoned early.
    const done: Promise<unknown> = pipelined ? turn : turn.then(() => run);
    this.tail = previous.then(() => done).catch(() => undefined);
    return run;
  }

  /** Subscribes to events of the entries applied from now on. */
  watch(options: WatchOptions = {}): Subscription {
    const sub = new Subscription(options, this.watchCapacity, (s) => this.subscriptions.delete(s));
    if (this.closed) sub.end("store-closed");
    else if (!sub.closed) this.subscriptions.add(sub);
    return sub;
  }

  /** Reads with `fn` and subscribes at the same point: the events start right after what `fn` saw. */
  viewAndWatch<T>(fn: (tx: ReadTx) => T, options: WatchOptions = {}): { result: T; subscription: Subscription } {
    const result = this.view(fn);
    return { result, subscription: this.watch(options) };
  }

  /**
   * Applies the committed entry at `index`: all its actions or, if one fails its checks, none.
   * Entries must come in index order (gaps are fine: not every entry is a store transaction); an
   * index at or below the last one applied is ignored. Returns false if the entry was ignored or
   * rejected (then the update that proposed it, if it waits here, rejects with the reason).
   * The store keeps the objects of `actions` (see EntryApplier): pass freshly decoded ones.
   */
  applyEntry(index: number, actions: readonly StoreAction[], audit: readonly AuditRecord[] = []): boolean {
    if (!Number.isSafeInteger(index) || index <= this.applied) return false;
    let changes: AppliedChange[] = [];
    let failure: ShoalError | undefined;
    try {
      changes = applyActions(this.tables, index, actions);
    } catch (err: unknown) {
      failure =
        err instanceof ShoalError
          ? err
          : new ShoalError(ErrorCode.Internal, `applying entry ${index} failed`, { cause: err });
      this.logger?.warn({ index, err: failure }, "store entry rejected");
    }
    this.applied = index;
    if (changes.length > 0 && this.subscriptions.size > 0) {
      const entry = new AppliedEntry(index, changes);
      for (const sub of this.subscriptions) sub.deliver(entry);
    }
    if (audit.length > 0) for (const fn of [...this.auditListeners]) fn(index, audit);
    this.settle(index, failure);
    return failure === undefined;
  }

  /** `applyEntry` for a decoded entry payload (the Raft driver's state-machine interface). */
  apply(index: number, request: InternalRaftRequest): void {
    this.applyEntry(index, request.actions, request.audit);
  }

  /**
   * Writes audit records to the log in an entry that changes no object (never in snapshots);
   * resolves once it is applied here, when every manager's `onAudit` listeners hear of it.
   */
  async audit(records: AuditRecord[], signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new UnavailableError("store closed");
    this.proposing++;
    let index: number;
    try {
      ({ index } = await this.proposer.propose([], signal, records));
    } finally {
      this.proposing--;
    }
    const outcome = this.outcome(index);
    if (this.proposing === 0) this.outcomes.clear();
    await outcome;
  }

  /** Calls `fn` with the audit records of each entry applied from now on; returns the unsubscribe. */
  onAudit(fn: (index: number, records: readonly AuditRecord[]) => void): () => void {
    this.auditListeners.add(fn);
    return () => this.auditListeners.delete(fn);
  }

  /** The whole state as bytes (see snapshot.ts); equal states give equal bytes. */
  save(): Uint8Array {
    return encodeSnapshot(this.tables, this.applied);
  }

  /**
   * `save()` without blocking the event loop for long: the state is captured at once (object
   * references: stored objects are never changed in place) and encoded `sliceSize` objects at a
   * time between turns of the event loop. Same bytes as `save()` at the time of the call.
   */
  async saveAsync(options: { readonly signal?: AbortSignal; readonly sliceSize?: number } = {}): Promise<Uint8Array> {
    const encoder = new SnapshotEncoder(capture(this.tables, this.applied));
    while (!encoder.step(options.sliceSize ?? 2_000)) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfAborted(options.signal);
    }
    return encoder.finish();
  }

  /**
   * Replaces the whole state by a snapshot from `save()` (a ShoalError DATA_LOSS if it does not
   * decode, and then nothing changes). Every subscription then gets a resync event in place of
   * whatever it had queued. Updates whose entry the snapshot covers reject: their outcome is lost.
   * `atIndex`, the Raft snapshot's index, counts as applied when above the one saved in the bytes
   * (entries after the last store entry, such as membership changes, do not reach the store).
   */
  restore(bytes: Uint8Array, atIndex?: number): void {
    const decoded = decodeSnapshot(bytes);
    const index = Math.max(decoded.index, atIndex ?? 0);
    this.tables = decoded.tables;
    this.applied = index;
    for (const [i, waiter] of this.waiters) {
      if (i > index) continue;
      this.waiters.delete(i);
      waiter.reject(new UnavailableError(`entry ${i} was replaced by a snapshot at ${index}: its outcome is unknown`));
    }
    this.outcomes.clear();
    for (const sub of this.subscriptions) sub.resync(index);
  }

  /** Ends every subscription and fails waiting and later updates. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sub of [...this.subscriptions]) sub.end("store-closed");
    for (const waiter of this.waiters.values()) waiter.reject(new UnavailableError("store closed"));
    this.waiters.clear();
  }

  private async runUpdate<T>(
    fn: (tx: WriteTx) => T,
    signal: AbortSignal | undefined,
    proposed: () => void,
  ): Promise<T> {
    let result: T;
    let actions: StoreAction[];
    try {
      if (this.closed) throw new UnavailableError("store closed");
      throwIfAborted(signal);
      const tx = new Transaction(this.tables, storeTime(this.clock.now()).getTime());
      try {
        result = mustBeSync(fn(tx.tx), "update");
      } finally {
        tx.close();
      }
      actions = tx.actions();
    } catch (err: unknown) {
      proposed();
      throw err;
    }
    if (actions.length === 0) {
      proposed();
      return result;
    }
    this.proposing++;
    let index: number;
    try {
      const proposal = this.proposer.propose(actions, signal);
      proposed(); // the proposer took the entry: the next transaction may run
      ({ index } = await proposal);
    } finally {
      this.proposing--;
    }
    const outcome = this.outcome(index);
    if (this.proposing === 0) this.outcomes.clear();
    await outcome;
    return result;
  }

  /** Settles once the entry at `index` is applied: rejects if apply refused it. */
  private outcome(index: number): Promise<void> {
    if (this.outcomes.has(index)) {
      const failure = this.outcomes.get(index);
      return failure === undefined ? Promise.resolve() : Promise.reject(failure);
    }
    if (index <= this.applied) {
      return Promise.reject(new UnavailableError(`entry ${index} was replaced by a snapshot: its outcome is unknown`));
    }
    if (this.closed) return Promise.reject(new UnavailableError("store closed"));
    return new Promise((resolve, reject) => this.waiters.set(index, { resolve, reject }));
  }

  private settle(index: number, failure: ShoalError | undefined): void {
    const waiter = this.waiters.get(index);
    if (waiter !== undefined) {
      this.waiters.delete(index);
      if (failure === undefined) waiter.resolve();
      else waiter.reject(failure);
    } else if (this.proposing > 0) {
      this.outcomes.set(index, failure);
    }
  }
}

function mustBeSync<T>(result: T, what: string): T {
  if (typeof (result as { then?: unknown } | null)?.then === "function") {
    (result as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new InvalidArgumentError(`the ${what} callback must be synchronous (it returned a promise)`);
  }
  return result;
}
