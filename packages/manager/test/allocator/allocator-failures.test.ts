// The allocator when a write fails, and when a node goes.
import { LocalProposer, MemoryStore, type Proposer } from "../../src/state/store/index.js";
import { ManualClock, type StoreAction } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { settle, until } from "../orchestrator/helpers.js";
import { addressesOf, network, node, setup, startAllocator, stopAllocators, task } from "./fixtures.js";

afterEach(stopAllocators);

/** A LocalProposer that refuses the next `failures` proposals (leadership lost for a moment). */
class FlakyProposer implements Proposer {
  private readonly local = new LocalProposer();
  failures = 0;

  attach(store: MemoryStore): void {
    this.local.attach(store);
  }

  async propose(actions: StoreAction[], signal?: AbortSignal): Promise<{ index: number }> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error("not the leader for a moment");
    }
    return this.local.propose(actions, signal);
  }
}

describe("Allocator: failures", () => {
  it("takes back what a write that failed gave, and gives it again on the retry", async () => {
    const clock = new ManualClock(1_000_000);
    const flaky = new FlakyProposer();
    const store = new MemoryStore({ clock, proposer: flaky });
    flaky.attach(store);
    await store.update((tx) => tx.networks.create(network("n", "10.0.1.0/24")));
    startAllocator(store, clock, 10); // a pass waits for 10 ms of quiet on the test's clock
    await settle();
    await store.update((tx) => tx.tasks.create(task("t1", { networks: ["n"] })));
    await settle();
    flaky.failures = 1; // the allocator's first write
    clock.advance(10);
    await settle();
    expect(flaky.failures).toBe(0);
    expect(addressesOf(store, "t1")).toEqual([]);
    // The retry (after the loop's backoff) gives the same first address: the failed one left nothing.
    for (let i = 0; i < 50 && addressesOf(store, "t1").length === 0; i++) {
      clock.advance(100);
      await settle(5);
    }
    expect(addressesOf(store, "t1")).toEqual(["10.0.1.2/24"]);
  });

  it("frees a node's ingress address when the node is removed, and waits for one when none is free", async () => {
    const { store, clock } = setup();
    await store.update((tx) => {
      tx.networks.create(network("ingress-id", "10.255.0.0/30", { ingress: true })); // one address: .2
      tx.nodes.create(node("n1", true));
    });
    startAllocator(store, clock);
    const attachments = (id: string) => store.view((tx) => tx.nodes.get(id))!.attachments;
    await until(() => attachments("n1").length > 0, "n1's address");
    await store.update((tx) => tx.nodes.create(node("n2", true)));
    await settle();
    expect(attachments("n2")).toEqual([]);
    await store.update((tx) => tx.nodes.delete("n1"));
    await until(() => attachments("n2").length > 0, "n2's address");
    expect(attachments("n2")[0]!.addresses).toEqual(["10.255.0.2/30"]);
  });
});
