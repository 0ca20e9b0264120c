import { describe, expect, it } from "vitest";
import { Cluster, ManualClock } from "@shoal/shared";
import { MemoryStore, cachedClusterSpec } from "../../../src/state/store/index.js";

describe("cachedClusterSpec", () => {
  it("reads the cluster's spec at most once per refresh time, and sees a change after it", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const spec = cachedClusterSpec(store, clock, 500);
    expect(spec()).toBeUndefined();
    await store.update((tx) =>
      tx.clusters.create(Cluster.fromPartial({ id: "c1", spec: { annotations: { name: "default" } } })),
    );
    expect(spec()).toBeUndefined();
    clock.advance(500);
    expect(spec()?.annotations?.name).toBe("default");
  });
});
