// The shared network index: a change touches only the networks it concerns, and the index follows
// the store through synchronous drains, an overflow included.
import { HealthState, TaskState, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { NetworkIndex, leaseNetworkIndex } from "../../src/dispatcher/network-index.js";
import { hostOnly, isEndpointReady } from "../../src/dispatcher/network-endpoints.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { network, node, service, task } from "./network-fixtures.js";

async function twoNetworks(): Promise<MemoryStore> {
  const store = new MemoryStore({ watchCapacity: 8 });
  await store.update((tx) => {
    tx.networks.create(network("a", "10.0.1.0/24"));
    tx.networks.create(network("b", "10.0.2.0/24"));
    tx.nodes.create(node("n1", "192.168.0.1"));
    tx.services.create(service("sa", [{ target: "a" }]));
    tx.services.create(service("sb", [{ target: "b" }]));
    tx.tasks.create(task("ta", "sa", "n1", [["a", "10.0.1.5/24"]]));
    tx.tasks.create(task("tb", "sb", "n1", [["b", "10.0.2.5/24"]]));
  });
  return store;
}

describe("NetworkIndex", () => {
  it("a task change bumps only its networks; tasks without networks touch nothing", async () => {
    const store = await twoNetworks();
    const index = new NetworkIndex(store);
    const a = index.version("a")!;
    const b = index.version("b")!;
    await store.update((tx) => tx.tasks.create(task("plain", "sa", "n1", [])));
    index.sync();
    expect([index.version("a"), index.version("b")]).toEqual([a, b]);
    await store.update((tx) => {
      const t = tx.tasks.get("ta")!;
      tx.tasks.update({ ...t, status: { ...t.status!, state: TaskState.RUNNING } });
    });
    index.sync();
    expect(index.version("a")).toBeGreaterThan(a);
    expect(index.version("b")).toBe(b);
    expect(index.state("a", "n1")!.endpoints[0]!.ready).toBe(true);
    expect(index.version("nope")).toBeUndefined();
    index.close();
  });

  it("rebuilds from the store when its subscription overflowed", async () => {
    const store = await twoNetworks();
    const lease = leaseNetworkIndex(store);
    for (let i = 0; i < 12; i++) {
      await store.update((tx) => tx.tasks.create(task(`x${i}`, "sa", "n1", [["a", `10.0.1.${20 + i}/24`]])));
    }
    lease.index.sync();
    expect(lease.index.state("a", "n1")!.endpoints).toHaveLength(13);
    // One lease per store while it is held; a new one after the last release.
    const again = leaseNetworkIndex(store);
    expect(again.index).toBe(lease.index);
    lease.release();
    again.release();
    expect(leaseNetworkIndex(store).index).not.toBe(lease.index);
  });
});

describe("endpoint readiness and addresses", () => {
  const running = (o: Parameters<typeof task>[4]): Task => task("t", "s", "n", [], { state: TaskState.RUNNING, ...o });

  it("running and wanted running; with a health check, healthy", () => {
    expect(isEndpointReady(running({}))).toBe(true);
    expect(isEndpointReady(running({ health: HealthState.NONE }))).toBe(true);
    expect(isEndpointReady(running({ health: HealthState.STARTING }))).toBe(false); // the image's own check
    expect(isEndpointReady(running({ healthcheck: ["CMD", "true"] }))).toBe(false);
    expect(isEndpointReady(running({ healthcheck: ["CMD", "true"], health: HealthState.HEALTHY }))).toBe(true);
    expect(isEndpointReady(running({ healthcheck: ["NONE"], health: HealthState.UNHEALTHY }))).toBe(true);
    expect(isEndpointReady(running({ desired: TaskState.SHUTDOWN }))).toBe(false);
    expect(isEndpointReady(task("t", "s", "n", [], { state: TaskState.STARTING }))).toBe(false);
  });

  it("the data-path address of a session address with or without a port", () => {
    expect(hostOnly("10.0.0.5")).toBe("10.0.0.5");
    expect(hostOnly("10.0.0.5:4242")).toBe("10.0.0.5");
    expect(hostOnly("[fd00::1]:4242")).toBe("fd00::1");
    expect(hostOnly("fd00::1")).toBe("fd00::1");
  });
});
