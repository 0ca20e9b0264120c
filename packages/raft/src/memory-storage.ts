// The in-memory twin of the manager's write-ahead log: what tests and simulations persist into.
// ents[0] is a dummy entry carrying the index and term of the latest snapshot (or 0/0), so that
// term(firstIndex() - 1) is always answerable.
import { limitSize } from "./entry-size.js";
import { CompactedError, RaftInvariantError, SnapOutOfDateError, UnavailableError } from "./errors.js";
import type { InitialState, Storage } from "./storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";
import { emptyHardState, emptySnapshot } from "./types.js";

const EMPTY = new Uint8Array(0);

function dummyEntry(index: number, term: number): Entry {
  return { index, term, type: "normal", data: EMPTY };
}

export interface MemoryStorageOptions {
  /** Start as if a snapshot at index 0 held this configuration (a test shortcut for bootstrapping). */
  confState?: ConfState;
}

export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [dummyEntry(0, 0)];

  constructor(options: MemoryStorageOptions = {}) {
    if (options.confState !== undefined) {
      this.snap.metadata.confState = { voters: [...options.confState.voters] };
    }
  }

  initialState(): InitialState {
    return {
      hardState: { ...this.hardState },
      confState: { voters: [...this.snap.metadata.confState.voters] },
    };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new RaftInvariantError(`entries' hi(${hi}) is out of bound lastIndex(${this.lastIndex()})`);
    }
    if (this.ents.length === 1) throw new UnavailableError(); // only the dummy entry
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new CompactedError();
    const e = this.ents[i - offset];
    if (e === undefined) throw new UnavailableError();
    return e.term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace the whole log by a snapshot (received from the leader). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.ents = [dummyEntry(snap.metadata.index, snap.metadata.term)];
  }

  /** Record a snapshot of the state machine as of applied index i (i <= lastIndex()); compact separately. */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    const offset = this.offset();
    if (i > this.lastIndex()) {
      throw new RaftInvariantError(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    }
    const e = this.ents[i - offset] as Entry;
    this.snap = {
      data,
      metadata: {
        index: i,
        term: e.term,
        confState: { voters: [...(confState ?? this.snap.metadata.confState).voters] },
      },
    };
    return this.snap;
  }

  /** Discard all entries up to compactIndex (which must not exceed the last index). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new RaftInvariantError(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const kept = this.ents[i] as Entry;
    this.ents = [dummyEntry(kept.index, kept.term), ...this.ents.slice(i + 1)];
  }

  /** Append entries, replacing any existing entries from entries[0].index on. */
  append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    const first = this.firstIndex();
    const last = head.index + entries.length - 1;
    if (last < first) return; // all already compacted
    // Skip the part that is already compacted.
    const fresh = first > head.index ? entries.slice(first - head.index) : entries;
    const freshHead = fresh[0] as Entry;
    const at = freshHead.index - this.offset();
    if (at > this.ents.length) {
      throw new RaftInvariantError(`missing log entry [last: ${this.lastIndex()}, append at: ${freshHead.index}]`);
    }
    if (at === this.ents.length) {
      for (const e of fresh) this.ents.push(e);
    } else {
      this.ents = this.ents.slice(0, at).concat(fresh);
    }
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }
}
