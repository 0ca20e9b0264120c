import { describe, expect, it } from "vitest";
import { ManualClock } from "@shoal/shared";

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
});
