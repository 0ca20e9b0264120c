import { describe, expect, it } from "vitest";
import { Cluster, ManualClock, Node, type DispatcherConfig } from "@shoal/shared";
import { MemoryStore } from "@shoal/manager";
import { HeartbeatSettings, MAX_HEARTBEATS_PER_SECOND } from "../../src/dispatcher/heartbeat-settings.js";

async function withCluster(store: MemoryStore, dispatcher: DispatcherConfig | undefined): Promise<void> {
  await store.update((tx) => {
    const found = tx.clusters.find()[0];
    const spec = { annotations: { name: "default", labels: {} }, ...(dispatcher ? { dispatcher } : {}) };
    if (found) tx.clusters.update(Cluster.fromPartial({ ...found, spec }));
    else tx.clusters.create(Cluster.fromPartial({ id: "c1", spec }));
  });
}

describe("HeartbeatSettings", () => {
  it("uses the manager's defaults while the cluster sets nothing", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const settings = new HeartbeatSettings(store, clock, { periodMs: 1000, missed: 3 });
    expect([settings.periodMs(), settings.downAfterMs(), settings.graceMs()]).toEqual([1000, 3000, 8000]);
    await withCluster(store, undefined);
    clock.advance(1000);
    expect([settings.periodMs(), settings.downAfterMs(), settings.graceMs()]).toEqual([1000, 3000, 8000]);
  });

  it("takes the cluster's period and grace period, within a second of a change", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const settings = new HeartbeatSettings(store, clock, { periodMs: 1000, missed: 3, graceMs: 9000 });
    expect(settings.periodMs()).toBe(1000);
    await withCluster(store, { heartbeatPeriod: { seconds: 5, nanos: 0 }, gracePeriod: undefined });
    expect(settings.periodMs()).toBe(1000); // read less than a second ago
    clock.advance(1000);
    expect([settings.periodMs(), settings.downAfterMs(), settings.graceMs()]).toEqual([5000, 15_000, 9000]);
    await withCluster(store, { heartbeatPeriod: { seconds: 5, nanos: 0 }, gracePeriod: { seconds: 30, nanos: 0 } });
    clock.advance(1000);
    expect(settings.graceMs()).toBe(30_000);
  });

  it("lengthens the period so that the leader answers at most its rate of heartbeats, whatever the cluster sets", async () => {
    const clock = new ManualClock(0);
    const store = new MemoryStore({ clock });
    const settings = new HeartbeatSettings(store, clock, { periodMs: 1000, missed: 3 });
    const addNodes = (from: number, to: number): Promise<void> =>
      store.update((tx) => {
        for (let i = from; i < to; i++) tx.nodes.create(Node.fromPartial({ id: `node${String(i).padStart(5, "0")}` }));
      });
    await addNodes(0, MAX_HEARTBEATS_PER_SECOND);
    clock.advance(1000);
    expect(settings.periodMs()).toBe(1000); // exactly the rate at 1 s: as set
    await addNodes(MAX_HEARTBEATS_PER_SECOND, 4 * MAX_HEARTBEATS_PER_SECOND);
    clock.advance(1000);
    expect([settings.periodMs(), settings.downAfterMs()]).toEqual([4000, 12_000]);
    // A node is judged by the period it was told, whatever the count is now.
    expect(settings.downAfterMs(1000)).toBe(3000);
    // A longer period set by the cluster stands; a shorter one gives way to the rate.
    await withCluster(store, { heartbeatPeriod: { seconds: 10, nanos: 0 }, gracePeriod: undefined });
    clock.advance(1000);
    expect(settings.periodMs()).toBe(10_000);
    await withCluster(store, { heartbeatPeriod: { seconds: 2, nanos: 0 }, gracePeriod: undefined });
    clock.advance(1000);
    expect(settings.periodMs()).toBe(4000);
  });
});
