import { describe, expect, it } from "vitest";
import { ManualClock, silentLogger } from "@shoal/shared";
import { ComponentRunner } from "../../src/lifecycle/component-runner.js";
import { leaderFactories } from "../../src/orchestrator/leader-factories.js";
import { MemoryStore } from "../../src/state/store/index.js";

describe("leaderFactories", () => {
  const deps = { store: new MemoryStore(), logger: silentLogger(), clock: new ManualClock(), managers: () => [] };

  it("makes the leader's components in start order", () => {
    expect(leaderFactories(deps).map((make) => make().name)).toEqual([
      "replicated",
      "global",
      "jobs",
      "restart",
      "updater",
      "auto-rebalance",
      "reaper",
      "allocator",
      "scheduler",
      "cron",
      "ca-rotation",
      "join-expiry",
      "network-bootstrap",
    ]);
  });

  it("makes a fresh instance on each call, for each term", () => {
    const [make] = leaderFactories(deps);
    expect(make!()).not.toBe(make!());
  });

  it("runs every component over the store until stopped", async () => {
    const store = new MemoryStore();
    const runner = new ComponentRunner(
      leaderFactories({ ...deps, store }).map((make) => make()),
      silentLogger(),
    );
    await runner.start();
    await runner.stop();
    store.close();
  });
});
