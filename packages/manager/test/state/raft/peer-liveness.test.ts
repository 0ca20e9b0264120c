import { describe, expect, it } from "vitest";
import { ManualClock } from "@shoal/shared";
import { PeerLiveness, reachabilityWindowMs } from "../../../src/state/raft/peer-liveness.js";

describe("PeerLiveness", () => {
  it("takes an election timeout as the window, and two heartbeats at least", () => {
    expect(reachabilityWindowMs({ tickMs: 50, electionTick: 10, heartbeatTick: 1 })).toBe(500);
    expect(reachabilityWindowMs({ tickMs: 100, electionTick: 3, heartbeatTick: 2 })).toBe(400);
  });

  it("reports a peer reachable while it was heard from within the window", () => {
    const clock = new ManualClock(10_000);
    const liveness = new PeerLiveness(clock, 500);
    expect(liveness.reachable(2)).toBe(false);
    liveness.heard(2);
    clock.advance(500);
    expect(liveness.reachable(2)).toBe(true);
    clock.advance(1);
    expect(liveness.reachable(2)).toBe(false);
    liveness.heard(2);
    expect(liveness.reachable(2)).toBe(true);
    liveness.forget(2);
    expect(liveness.reachable(2)).toBe(false);
  });

  it("adds reachability to the leader's progress of each member, itself always reachable", () => {
    const clock = new ManualClock(10_000);
    const liveness = new PeerLiveness(clock, 500);
    liveness.heard(2);
    const p = (match: number) => ({
      match,
      next: match + 1,
      state: "replicate" as const,
      recentActive: false,
      paused: false,
      inflight: 0,
    });
    const statuses = liveness.statuses(
      new Map([
        [1, p(9)],
        [2, p(8)],
        [3, p(1)],
      ]),
      1,
    );
    expect([...statuses]).toEqual([
      [1, { match: 9, recentActive: false, reachable: true }],
      [2, { match: 8, recentActive: false, reachable: true }],
      [3, { match: 1, recentActive: false, reachable: false }],
    ]);
    expect(liveness.statuses(undefined, 1).size).toBe(0);
  });
});
