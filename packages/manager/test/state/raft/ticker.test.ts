import { describe, expect, it } from "vitest";
import { ManualClock } from "@shoal/shared";
import { Ticker } from "../../../src/state/raft/ticker.js";

describe("Ticker", () => {
  it("calls its function every interval of the clock until stopped", () => {
    const clock = new ManualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, 50, () => ticks++);
    clock.advance(49);
    expect(ticks).toBe(0);
    clock.advance(1);
    expect(ticks).toBe(1);
    clock.advance(200);
    expect(ticks).toBe(5);
    ticker.stop();
    ticker.stop();
    clock.advance(500);
    expect(ticks).toBe(5);
    expect(clock.pendingTimers).toBe(0);
  });

  it("stops from within its own tick", () => {
    const clock = new ManualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, 10, () => {
      if (++ticks === 2) ticker.stop();
    });
    clock.advance(100);
    expect(ticks).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});
