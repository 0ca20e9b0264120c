// The snapshot interval the cluster's Raft config sets (`shoal cluster update`, `docker swarm
// update --snapshot-interval`); 0 when it sets none. The snapshotter asks after every Ready, so
// the spec is read through cachedClusterSpec (at most once a second).
import type { Clock } from "@shoal/shared";
import { cachedClusterSpec, type MemoryStore } from "../store/index.js";

export function clusterSnapshotInterval(store: MemoryStore, clock: Clock): () => number {
  const spec = cachedClusterSpec(store, clock);
  return () => spec()?.raft?.snapshotInterval ?? 0;
}
