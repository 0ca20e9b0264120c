import { describe, expect, it } from "vitest";
import { Cluster, ManualClock } from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { clusterSnapshotInterval } from "../../../src/state/raft/cluster-snapshot-interval.js";

describe("clusterSnapshotInterval", () => {
  it("is 0 until the cluster's Raft config sets one, then that, within a second of a change", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const interval = clusterSnapshotInterval(store, clock);
    expect(interval()).toBe(0);
    await store.update((tx) =>
      tx.clusters.create(
        Cluster.fromPartial({ id: "c1", spec: { annotations: { name: "default" }, raft: { snapshotInterval: 500 } } }),
      ),
    );
    expect(interval()).toBe(0);
    clock.advance(1000);
    expect(interval()).toBe(500);
  });
});
