import { describe, expect, it, vi } from "vitest";
import { DispatcherService, ManualClock, silentLogger } from "@shoal/shared";
import { DispatcherComponent, weightedManagers } from "../../src/dispatcher/dispatcher-component.js";
import { MemoryStore } from "../../src/state/store/index.js";

const members = [
  { raftId: 1, nodeId: "m1", addr: "10.0.0.1:4242" },
  { raftId: 2, nodeId: "m2", addr: "10.0.0.2:4242" },
];

describe("weightedManagers", () => {
  it("gives the leader more weight, so that agents prefer it", () => {
    expect(weightedManagers(members, 2)).toEqual([
      { nodeId: "m1", addr: "10.0.0.1:4242", weight: 1 },
      { nodeId: "m2", addr: "10.0.0.2:4242", weight: 10 },
    ]);
    expect(weightedManagers(members, undefined).map((m) => m.weight)).toEqual([1, 1]);
  });
});

describe("DispatcherComponent", () => {
  function setup(): { part: DispatcherComponent; added: unknown[] } {
    const added: unknown[] = [];
    const part = new DispatcherComponent({
      server: { addService: (def) => void added.push(def) },
      store: new MemoryStore(),
      raft: { isLeader: false, leaderId: undefined, leaderAddr: () => undefined, members: () => [] },
      clock: new ManualClock(),
      logger: silentLogger(),
      heartbeatPeriodMs: 50,
    });
    return { part, added };
  }

  it("serves the Dispatcher", async () => {
    const { part, added } = setup();
    await part.run();
    expect(added).toEqual([DispatcherService]);
  });

  it("leads when the manager does, and stops once", async () => {
    const { part } = setup();
    const setLeader = vi.spyOn(part.dispatcher, "setLeader");
    const stop = vi.spyOn(part.dispatcher, "stop");
    part.setLeader(true);
    part.setLeader(false);
    expect(setLeader.mock.calls).toEqual([[true], [false]]);
    part.stop();
    part.stop();
    expect(stop).toHaveBeenCalledTimes(2); // Dispatcher.stop is idempotent itself
  });
});
