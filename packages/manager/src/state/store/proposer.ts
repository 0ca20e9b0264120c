// How a transaction becomes a committed entry. The Raft driver implements Proposer on the leader;
// LocalProposer stands in for it in tests and on a manager that replicates to nobody.
import { InternalRaftRequest, throwIfAborted, type AuditRecord, type StoreAction } from "@shoal/shared";

export interface Proposer {
  /**
   * Proposes one entry holding `actions` (applied in order, all or none). Resolves with the
   * entry's Raft index once it is committed; rejects if it will not be (not the leader, aborted,
   * superseded). The store learns the outcome when `applyEntry` is called for that index, before
   * or after this resolves. `actions` belong to the proposer from now on; it must not change them.
   * `audit`: records that change no object (InternalRaftRequest.audit), for every manager's event log.
   */
  propose(actions: StoreAction[], signal?: AbortSignal, audit?: AuditRecord[]): Promise<{ index: number }>;
}

/** What applies committed entries: every manager's store, for every entry, in index order. */
export interface EntryApplier {
  /** Index of the last entry applied (or snapshot restored). */
  readonly appliedIndex: number;
  /**
   * Applies one committed entry. The objects in `actions` become the applier's: pass objects that
   * nobody else holds (as decoded from the log), never the same ones to two appliers.
   */
  applyEntry(index: number, actions: readonly StoreAction[], audit?: readonly AuditRecord[]): boolean;
}

export interface LocalProposerOptions {
  /** Index of the last entry before the first proposal; default 0. */
  readonly startIndex?: number;
}

/**
 * Commits every proposal at once under the next index (after the last one proposed or applied by
 * any attached store) and applies it to each attached store, as
 * the Raft driver would: the entry is encoded as an InternalRaftRequest and each store gets its
 * own decoded copy, so stores that apply the same entries end with the same state.
 */
export class LocalProposer implements Proposer {
  private index: number;
  private readonly appliers = new Set<EntryApplier>();

  constructor(options: LocalProposerOptions = {}) {
    this.index = options.startIndex ?? 0;
  }

  /** Index of the last entry proposed. */
  get lastIndex(): number {
    return this.index;
  }

  /** Applies every later entry to `applier` too; returns the detach function. */
  attach(applier: EntryApplier): () => void {
    this.appliers.add(applier);
    return () => this.appliers.delete(applier);
  }

  propose(actions: StoreAction[], signal?: AbortSignal, audit: AuditRecord[] = []): Promise<{ index: number }> {
    try {
      throwIfAborted(signal);
      // After the last entry of any attached store (one may have restored a later snapshot).
      for (const applier of this.appliers) this.index = Math.max(this.index, applier.appliedIndex);
      const index = ++this.index;
      const data = InternalRaftRequest.encode({ id: index, actions, audit }).finish();
      for (const applier of this.appliers) {
        const decoded = InternalRaftRequest.decode(data);
        applier.applyEntry(index, decoded.actions, decoded.audit);
      }
      return Promise.resolve({ index });
    } catch (err: unknown) {
      return Promise.reject(err);
    }
  }
}
