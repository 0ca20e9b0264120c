// RaftLog: the log as the core sees it, the persisted part (Storage) followed by the unstable tail, plus
// the commit and apply cursors. Invariant: applied <= committed <= lastIndex().
import { limitSize, NO_LIMIT } from "./entry-size.js";
import { CompactedError, RaftInvariantError, UnavailableError } from "./errors.js";
import { Unstable } from "./log-unstable.js";
import type { Storage } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the application has applied (acknowledged through advance()). */
  applied: number;
  /** Highest index handed to the application for applying (>= applied). */
  applying: number;
  /** Byte budget of the committed entries handed out by one Ready. */
  readonly maxApplyingSize: number;

  constructor(storage: Storage, maxApplyingSize: number = NO_LIMIT) {
    this.storage = storage;
    this.maxApplyingSize = maxApplyingSize;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.termOrUndefined(this.lastIndex());
    if (t === undefined) throw new RaftInvariantError("unexpected error when getting the last term");
    return t;
  }

  /** Term of entry i, for i in [firstIndex() - 1, lastIndex()] (the entry before the first is compacted
   *  but its term is kept for matching). Throws CompactedError below and UnavailableError above. */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex()) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.storage.term(i);
  }

  /** Term of entry i, or undefined when compacted or unavailable. (Hot path: no exception for an index
   *  out of range, which is common, e.g. for entries a follower does not have yet.) */
  termOrUndefined(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err: unknown) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  /** Term of entry i, 0 when unknown. */
  zeroTermOnOutOfBounds(i: number): number {
    return this.termOrUndefined(i) ?? 0;
  }

  matchTerm(i: number, t: number): boolean {
    return this.termOrUndefined(i) === t;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up to date as ours (paper 5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Append entries from a leader whose entry at `index` has term `logTerm`. Returns the index of the
   * last entry the message vouches for, or undefined when our log does not contain (index, logTerm).
   * Entries we already hold are kept; from the first conflict on, ours are replaced.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new RaftInvariantError(`entry ${conflict} conflicts with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Append entries at the tail (replacing any entries from ents[0].index on). Returns the last index. */
  append(ents: readonly Entry[]): number {
    const head = ents[0];
    if (head === undefined) return this.lastIndex();
    if (head.index - 1 < this.committed) {
      throw new RaftInvariantError(`after(${head.index - 1}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry in ents that is not in our log (absent or with another term), or 0 when all
   * are present. ents must be contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The last index <= `index` whose entry has a term <= `term`, with that entry's term. Used to skip a
   * whole term of mismatching entries per round trip instead of one entry (thesis 5.3, "fast backup").
   * When the storage cannot tell (compacted), returns (index, 0): a possible match of unknown term.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ourTerm = this.termOrUndefined(index);
      if (ourTerm === undefined) return { index, term: 0 };
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return; // never decrease the commit index
    if (this.lastIndex() < toCommit) {
      throw new RaftInvariantError(
        `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
    }
    this.committed = toCommit;
  }

  /** Commit up to maxIndex if that entry is from `term` (only current-term entries commit by counting). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftInvariantError(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
      );
    }
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Whether committed entries are waiting to be handed out for applying. */
  hasNextCommittedEntries(): boolean {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.committed + 1 > lo;
  }

  /** Committed entries not yet handed out for applying, within the byte budget. */
  nextCommittedEntries(): Entry[] {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.slice(lo, this.committed + 1, this.maxApplyingSize);
  }

  /** Mark entries up to i as handed out for applying. */
  acceptApplying(i: number): void {
    if (i > this.applying) this.applying = i;
  }

  /** Whether committed entries in (applied, committed] hold a configuration change. */
  hasUnappliedConfChanges(): boolean {
    if (this.committed <= this.applied) return false;
    let lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    while (lo < hi) {
      const ents = this.slice(lo, hi, 1 << 20);
      for (const e of ents) if (e.type === "confChange") return true;
      const last = ents[ents.length - 1];
      if (last === undefined) break;
      lo = last.index + 1;
    }
    return false;
  }

  /** Entries from i to the end, within maxSize bytes (at least one if any). */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Install a snapshot: the log now starts after it, and everything it covers is committed. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) within maxSize bytes. Throws CompactedError when lo was compacted. */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      const stored = this.storage.entries(lo, Math.min(hi, offset), maxSize);
      // The storage stopped early (size limit): do not append unstable entries after a gap.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      ents = stored;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSize);
  }

  private checkOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new RaftInvariantError(`invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError();
    const length = this.lastIndex() + 1 - first;
    if (hi > first + length) {
      throw new RaftInvariantError(`slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`);
    }
  }
}
