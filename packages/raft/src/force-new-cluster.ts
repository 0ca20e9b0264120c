// Recovery from a lost quorum (as `etcd --force-new-cluster` and `docker swarm init
// --force-new-cluster`): rewrite one member's storage so that it restarts as the only voter of
// its group, with every entry of its log kept.
//
// What is kept: the whole log, not only the entries known to be committed. A follower learns the
// commit index one message after the leader, so an entry the leader committed and acknowledged to
// its client may sit past this member's commit index; cutting the log there would lose an
// acknowledged write. Entries past the commit index are applied too: their clients saw no
// success (a leader answers only after commit), so applying them turns an unknown outcome into a
// success, never a refusal into one. The one thing this cannot keep is what the survivor never
// received: a member that was behind loses what only the others had.
//
// How: the application folds the old snapshot and every entry after it into new snapshot data
// (dropping conf changes: the membership is replaced), and one atomic persist writes a snapshot
// at lastIndex + 1 with only `id` as voter and a term above every term seen, together with a
// HardState that commits it. The snapshot stands for a no-op entry of the new term: the new
// group's history starts at (lastIndex + 1, newTerm), which no log of the old group holds, so an
// old member's log can never be taken as matching it. The WAL marker points past the old log's
// end, so should the new snapshot file be lost, replay fails loudly (the log cannot reach it)
// rather than restoring the old membership from an older snapshot.
import { decodeConfChange } from "./conf-change-codec.js";
import { RaftInvariantError } from "./errors.js";
import type { MemoryStorage } from "./memory-storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "./types.js";
import { isEmptySnapshot } from "./types.js";

/** What force-new-cluster needs of a storage: the log to read, and an atomic persist. */
export interface ForceNewClusterStorage {
  readonly storage: MemoryStorage;
  persist(rd: {
    snapshot: Snapshot;
    hardState: HardState;
    entries: readonly Entry[];
    mustSync: boolean;
  }): Promise<void>;
}

export interface ForceNewClusterOptions {
  /** This member's id: the only voter of the new group. */
  readonly id: number;
  /**
   * The application's state after `base` (the snapshot held, possibly empty) and every entry in
   * `entries` (all of the log after it, in order, conf changes included, to be skipped), encoded
   * as snapshot data that names only this member.
   */
  snapshotData(base: Snapshot, entries: readonly Entry[]): Uint8Array | Promise<Uint8Array>;
}

export interface ForcedCluster {
  /** The new snapshot. */
  readonly snapshot: Snapshot;
  /** The HardState written with it. */
  readonly hardState: HardState;
  /** The voters before, as of the end of the log. */
  readonly previousVoters: readonly number[];
  /** The commit index this member knew before. */
  readonly previousCommit: number;
  /** How many entries past that commit index were kept (and applied). */
  readonly uncommittedKept: number;
}

/** Rewrites the storage into a one-voter group; the caller restarts its RawNode from it. */
export async function forceNewCluster(
  disk: ForceNewClusterStorage,
  options: ForceNewClusterOptions,
): Promise<ForcedCluster> {
  const storage = disk.storage;
  const { hardState } = storage.initialState();
  const base = storage.snapshot();
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last === 0 && isEmptySnapshot(base)) {
    throw new RaftInvariantError("force-new-cluster: the storage holds no log and no snapshot to start from");
  }
  const entries = last >= first ? storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  const previousVoters = votersAfter(base.metadata.confState, entries);
  const term = Math.max(hardState.term, storage.term(last)) + 1;
  const data = await options.snapshotData(base, entries);
  const snapshot: Snapshot = { data, metadata: { index: last + 1, term, confState: { voters: [options.id] } } };
  const next: HardState = { term, vote: 0, commit: last + 1 };
  await disk.persist({ snapshot, hardState: next, entries: [], mustSync: true });
  return {
    snapshot,
    hardState: next,
    previousVoters,
    previousCommit: hardState.commit,
    uncommittedKept: Math.max(0, last - Math.max(hardState.commit, base.metadata.index)),
  };
}

function votersAfter(start: ConfState, entries: readonly Entry[]): number[] {
  const voters = new Set(start.voters);
  for (const e of entries) {
    if (e.type !== "confChange") continue;
    const cc = decodeConfChange(e.data);
    if (cc.type === "addNode") voters.add(cc.nodeId);
    else voters.delete(cc.nodeId);
  }
  return [...voters].sort((a, b) => a - b);
}
