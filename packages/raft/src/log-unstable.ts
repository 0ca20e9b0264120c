// The tail of the log that the application has not yet persisted: entries (and possibly an incoming
// snapshot) that a Ready hands out and advance() marks stable. entries[i] has index offset + i.
import { RaftInvariantError } from "./errors.js";
import type { Entry, Snapshot } from "./types.js";

export class Unstable {
  /** A snapshot received from the leader, not yet persisted. */
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index of the log if an unstable snapshot defines it. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** The last index of the log if unstable entries or an unstable snapshot define it. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  /** The term of entry i if the unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      const snap = this.snapshot;
      return snap !== undefined && snap.metadata.index === i ? snap.metadata.term : undefined;
    }
    return this.entries[i - this.offset]?.term;
  }

  /** Entries up to (i, t) are persisted. Ignored when entry i was replaced since (its term differs). */
  stableTo(i: number, t: number): void {
    if (i < this.offset) return;
    const e = this.entries[i - this.offset];
    if (e === undefined || e.term !== t) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Append, replacing whatever the log held from ents[0].index on (which the caller checked is allowed). */
  truncateAndAppend(ents: readonly Entry[]): void {
    const head = ents[0];
    if (head === undefined) return;
    const fromIndex = head.index;
    if (fromIndex === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (fromIndex <= this.offset) {
      // Replaces all unstable entries (and possibly stable ones: the storage append will overwrite them).
      this.offset = fromIndex;
      this.entries = [...ents];
    } else {
      this.entries = this.entries.slice(0, fromIndex - this.offset).concat(ents);
    }
  }

  /** Entries in [lo, hi), which must lie within the unstable entries. */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    if (lo > hi || lo < this.offset || hi > upper) {
      throw new RaftInvariantError(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
