import { ManualClock } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { OomWatch } from "../../../src/exec/docker/oom-watch.js";

/** The promise's outcome so far, without waiting for it. */
async function peek<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | "pending"> {
  let outcome: { value: T } | { error: unknown } | "pending" = "pending";
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await new Promise((r) => setTimeout(r, 0));
  return outcome;
}

describe("OomWatch", () => {
  it("answers at once once the oom event has arrived", async () => {
    const clock = new ManualClock();
    const watch = new OomWatch(clock);
    watch.record();
    expect(watch.seen).toBe(true);
    await expect(watch.within(1_000)).resolves.toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("wakes a wait when the event arrives before the deadline, and drops its timer", async () => {
    const clock = new ManualClock();
    const watch = new OomWatch(clock);
    const waiting = watch.within(1_000);
    clock.advance(999);
    expect(await peek(waiting)).toBe("pending");
    watch.record();
    await expect(waiting).resolves.toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("answers false at the deadline when no event came", async () => {
    const clock = new ManualClock();
    const watch = new OomWatch(clock);
    const waiting = watch.within(1_000);
    clock.advance(999);
    expect(await peek(waiting)).toBe("pending");
    clock.advance(1);
    await expect(waiting).resolves.toBe(false);
    expect(watch.seen).toBe(false);
  });

  it("ends a wait with the signal's reason, and with a temporary error when closed", async () => {
    const clock = new ManualClock();
    const watch = new OomWatch(clock);
    const abort = new AbortController();
    const aborted = watch.within(1_000, abort.signal);
    abort.abort(new Error("step cancelled"));
    await expect(aborted).rejects.toThrow("step cancelled");
    expect(clock.pendingTimers).toBe(0);

    const closing = watch.within(1_000);
    watch.close();
    watch.close();
    await expect(closing).rejects.toMatchObject({ temporary: true, reason: "aborted" });
    await expect(watch.within(1_000)).rejects.toMatchObject({ temporary: true });
    expect(clock.pendingTimers).toBe(0);
  });
});
