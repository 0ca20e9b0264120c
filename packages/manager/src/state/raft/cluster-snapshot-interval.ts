// The snapshot interval the cluster's Raft config sets (`shoal cluster update`, `docker swarm
// update --snapshot-interval`); 0 when it sets none. The snapshotter asks after every Ready, so
// the store is read at most once a second: a change takes effect within that second.
import type { Clock } from "@shoal/shared";
import type { MemoryStore } from "../store/index.js";

const REFRESH_MS = 1000;

export function clusterSnapshotInterval(store: MemoryStore, clock: Clock): () => number {
  let value = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = clock.now();
    if (now - readAt >= REFRESH_MS) {
      readAt = now;
      value = store.view((tx) => tx.clusters.find()[0]?.spec?.raft?.snapshotInterval ?? 0);
    }
    return value;
  };
}
