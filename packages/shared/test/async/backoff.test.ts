import { describe, expect, it } from "vitest";
import { Backoff } from "@shoal/shared";

describe("Backoff", () => {
  it("doubles from the initial delay up to the ceiling", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it("spreads each delay by the jitter fraction", () => {
    const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1200);
  });
  it("starts over after reset", () => {
    const backoff = new Backoff({ initialMs: 50, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });
  it("refuses settings that make no sense", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(/initialMs <= maxMs/);
  });
});
