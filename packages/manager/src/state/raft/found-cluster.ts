// How a node's disk starts a group of this member alone: a new cluster (bootstrap), or a forced new
// cluster from a member's log after the quorum was lost for good.
import { InternalRaftRequest, RaftMember, RaftSnapshotData, type Logger } from "@shoal/shared";
import { forceNewCluster, isEmptySnapshot, type RaftDisk } from "@shoal/raft";
import type { StateMachine } from "./state-machine.js";

/**
 * Founds a cluster on an empty disk when asked to bootstrap, or forces one when asked to; resolves
 * with whether it did either (this member then leads a group of itself alone).
 */
export async function prepareDisk(
  disk: RaftDisk,
  self: RaftMember,
  sm: StateMachine,
  ask: { readonly bootstrap: boolean; readonly forceNewCluster?: boolean },
  logger: Logger,
): Promise<boolean> {
  const storage = disk.storage;
  if (isEmptySnapshot(storage.snapshot()) && storage.lastIndex() === 0 && ask.bootstrap) {
    await foundCluster(disk, self, sm);
    logger.info("started a new cluster");
    return true;
  }
  if (ask.forceNewCluster) {
    await forceOneMemberCluster(disk, self, sm, logger);
    return true;
  }
  return false;
}

/** Writes a snapshot at index 1 that holds only `self` and the state machine's (empty) state. */
export async function foundCluster(disk: RaftDisk, self: RaftMember, sm: StateMachine): Promise<void> {
  const data = RaftSnapshotData.encode({ members: [self], store: sm.save() }).finish();
  const snapshot = { data, metadata: { index: 1, term: 1, confState: { voters: [self.raftId] } } };
  await disk.persist({ snapshot, entries: [], hardState: { term: 1, vote: 0, commit: 1 }, mustSync: true });
}

/**
 * Rewrites the disk into a one-member group: the state machine folds the snapshot and every entry
 * after it (conf changes are skipped: the membership is replaced by `self`, at its present
 * address), and the result becomes a snapshot at a new term (see forceNewCluster in @shoal/raft).
 */
export async function forceOneMemberCluster(
  disk: RaftDisk,
  self: RaftMember,
  sm: StateMachine,
  logger: Logger,
): Promise<void> {
  const forced = await forceNewCluster(disk, {
    id: self.raftId,
    snapshotData: (base, entries) => {
      if (!isEmptySnapshot(base)) sm.restore(RaftSnapshotData.decode(base.data).store, base.metadata.index);
      for (const e of entries) {
        if (e.type === "normal" && e.data.length > 0) sm.apply(e.index, InternalRaftRequest.decode(e.data));
      }
      return RaftSnapshotData.encode({ members: [RaftMember.fromPartial(self)], store: sm.save() }).finish();
    },
  });
  logger.warn(
    {
      index: forced.snapshot.metadata.index,
      term: forced.hardState.term,
      previousVoters: forced.previousVoters.map((id) => id.toString(16)),
      previousCommit: forced.previousCommit,
      uncommittedKept: forced.uncommittedKept,
    },
    "forced a new cluster of this manager alone, keeping the whole log",
  );
}
