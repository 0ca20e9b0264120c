// The narrow read interface through which the Raft core sees the persisted log. The application writes
// (appends what a Ready asks it to persist, installs snapshots, compacts); Raft only reads.
//
// Error semantics (thrown, as typed errors):
// - CompactedError: the index is before firstIndex() - 1 (compacted away; send a snapshot instead);
// - UnavailableError: the index is after lastIndex();
// - SnapshotTemporarilyUnavailableError from snapshot(): not ready yet, Raft retries later.
// Any other error is treated as fatal by the core.
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

export interface Storage {
  /** The persisted HardState and the configuration as of the latest snapshot. */
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any, and no more than maxSize bytes beyond the first. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i, for i in [firstIndex() - 1, lastIndex()] (firstIndex() - 1 is the snapshot's). */
  term(i: number): number;
  /** Index of the first entry still held (the snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry held (the snapshot index when the log is empty). */
  lastIndex(): number;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}
