import { describe, expect, it } from "vitest";
import { ManualClock, every } from "@shoal/shared";

describe("ManualClock", () => {
  it("fires timers in time order only when advanced past them", () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("b"), 200);
    clock.setTimeout(() => fired.push("a"), 100);
    const cancelled = clock.setTimeout(() => fired.push("never"), 150);
    cancelled.cancel();
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(200);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(1299);
  });

  it("sleeps until advanced, and an abort ends the sleep with its reason", async () => {
    const clock = new ManualClock();
    const done = clock.sleep(50);
    clock.advance(50);
    await expect(done).resolves.toBeUndefined();

    const controller = new AbortController();
    const aborted = clock.sleep(50, controller.signal);
    controller.abort(new Error("stopping"));
    await expect(aborted).rejects.toThrow("stopping");
    expect(clock.pendingTimers).toBe(0);
  });

  it("drives an interval: one call per period, none after it is cancelled", () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    const timer = every(clock, 100, () => at.push(clock.now()));
    clock.advance(99);
    expect(at).toEqual([]);
    clock.advance(251);
    expect(at).toEqual([100, 200, 300]);
    timer.cancel();
    clock.advance(1_000);
    expect(at).toEqual([100, 200, 300]);
    expect(clock.pendingTimers).toBe(0);
    expect(() => every(clock, 0, () => undefined)).toThrow(RangeError);
  });

  it("lets an interval's callback cancel it, and goes on after a callback throws", () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const timer: { cancel(): void } = every(clock, 10, () => {
      calls++;
      if (calls === 2) throw new Error("one bad tick");
      if (calls === 3) timer.cancel();
    });
    clock.advance(10);
    expect(() => clock.advance(10)).toThrow("one bad tick");
    clock.advance(100);
    expect(calls).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });
});
