// The cluster's spec for settings read on hot paths (every heartbeat, every Raft Ready): read from
// the store at most once per `refreshMs`, so that a read costs no copy of the cluster object; a
// change is seen within that time.
import type { Clock, ClusterSpec } from "@shoal/shared";
import type { MemoryStore } from "./memory-store.js";

export function cachedClusterSpec(store: MemoryStore, clock: Clock, refreshMs = 1000): () => ClusterSpec | undefined {
  let spec: ClusterSpec | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = clock.now();
    if (now - readAt >= refreshMs) {
      readAt = now;
      spec = store.view((tx) => tx.clusters.find()[0]?.spec);
    }
    return spec;
  };
}
