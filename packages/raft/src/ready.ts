// What a RawNode asks its driver to do next. Handle one Ready completely, in this order, then call
// advance(rd):
//   1. persist: snapshot (if any), then entries, then hardState — with fsync when mustSync;
//   2. send messages;
//   3. apply: the snapshot (if any) to the state machine, then committedEntries in order
//      (for confChange entries, call applyConfChange);
//   4. advance(rd).
import type { Entry, HardState, Message, ReadState, Snapshot, SoftState } from "./types.js";

export interface Ready {
  /** Present when the leader or this node's role changed. Volatile: never persisted. */
  softState?: SoftState;
  /** Present when term, vote or commit changed. Must be persisted before any message is sent (a vote
   *  or a term must survive a crash before anyone can act on it). */
  hardState?: HardState;
  /** Answers to readIndex requests: once `index` is applied locally, a read served by the state
   *  machine is linearizable. */
  readStates: ReadState[];
  /** Entries to append to stable storage (replacing any stored entries with the same or higher index)
   *  before sending messages. */
  entries: Entry[];
  /** A snapshot from the leader to persist (replacing the whole log) and to install in the state machine. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order, after persisting this Ready. They may include entries of
   *  `entries` (persist first). */
  committedEntries: Entry[];
  /** Messages to send after entries, hardState and snapshot are persisted. If one is a MsgSnap, report
   *  its outcome with reportSnapshot(). */
  messages: Message[];
  /** Whether the writes must be synced to disk before sending (a new term, vote or entries). A commit
   *  index change alone need not be synced: it can be learned again from the leader. */
  mustSync: boolean;
}

export function isReadyEmpty(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.snapshot === undefined &&
    rd.entries.length === 0 &&
    rd.committedEntries.length === 0 &&
    rd.messages.length === 0 &&
    rd.readStates.length === 0
  );
}
