import { describe, expect, it } from "vitest";
import { StartLimit, type LimitChange } from "../../../src/exec/docker/start-limit.js";

/** A limit on a fake clock that records each change of the limit. */
function fixture(options: { min?: number; max?: number } = {}) {
  const clock = { t: 0 };
  const changes: LimitChange[] = [];
  const limit = new StartLimit({ now: () => clock.t, onChange: (c) => changes.push(c), ...options });
  return { clock, changes, limit };
}

/**
 * A daemon whose starts per second depend on how many are in flight: keeps a backlog queued and
 * completes `completions` starts, each after 1/rate(limit) seconds of the fake clock.
 */
function saturate(f: ReturnType<typeof fixture>, completions: number, rate: (inFlight: number) => number): number[] {
  const seen: number[] = [];
  for (let i = 0; i < f.limit.limit + 64; i++) void f.limit.acquire();
  for (let k = 0; k < completions; k++) {
    while (f.limit.waiting < 64) void f.limit.acquire();
    f.clock.t += 1000 / rate(f.limit.limit);
    f.limit.release();
    seen.push(f.limit.limit);
  }
  return seen;
}

describe("StartLimit slots", () => {
  it("lets 8 starts in at once and queues the next in order", async () => {
    const { limit } = fixture();
    for (let i = 0; i < 8; i++) await limit.acquire();
    expect(limit.inFlight).toBe(8);
    const order: number[] = [];
    const ninth = limit.acquire().then(() => order.push(9));
    const tenth = limit.acquire().then(() => order.push(10));
    expect(limit.waiting).toBe(2);
    limit.release();
    limit.release();
    await Promise.all([ninth, tenth]);
    expect(order).toEqual([9, 10]);
    expect(limit.inFlight).toBe(8);
    expect(limit.waiting).toBe(0);
  });

  it("drops a waiter whose signal aborts, without running it or taking a slot", async () => {
    const { limit } = fixture();
    for (let i = 0; i < 8; i++) await limit.acquire();
    const abort = new AbortController();
    let ran = false;
    const waiting = limit.run(async () => (ran = true), abort.signal);
    abort.abort(new Error("task shut down"));
    await expect(waiting).rejects.toThrow("task shut down");
    expect(ran).toBe(false);
    expect(limit.waiting).toBe(0);
    limit.release();
    expect(limit.inFlight).toBe(7);
  });

  it("refuses at once with a signal already aborted", async () => {
    const { limit } = fixture();
    const abort = new AbortController();
    abort.abort(new Error("gone"));
    await expect(limit.run(() => Promise.resolve(1), abort.signal)).rejects.toThrow("gone");
    expect(limit.inFlight).toBe(0);
  });

  it("gives the slot back when the start fails, and says how long it waited", async () => {
    const { clock, limit } = fixture();
    await expect(limit.run(() => Promise.reject(new Error("daemon said no")))).rejects.toThrow("daemon said no");
    expect(limit.inFlight).toBe(0);
    const timed = await limit.run(() => {
      clock.t += 250;
      return Promise.resolve("ok");
    });
    expect(timed).toEqual({ value: "ok", queuedMs: 0, callMs: 250 });
  });
});

describe("StartLimit tuning", () => {
  it("does not move while fewer starts than slots are asked for", async () => {
    const { clock, changes, limit } = fixture();
    for (let k = 0; k < 100; k++) {
      await limit.acquire();
      clock.t += 100;
      limit.release();
    }
    expect(limit.limit).toBe(8);
    expect(changes).toEqual([]);
  });

  it("climbs towards the knee of a daemon that does better with more in flight", () => {
    const f = fixture();
    // Throughput grows with concurrency up to 16 in flight, then stays flat.
    const seen = saturate(f, 1000, (c) => Math.min(c, 16));
    expect(f.changes[0]).toMatchObject({ from: 8, to: 10 });
    const late = seen.slice(-300);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...late)).toBeLessThanOrEqual(24);
  });

  it("comes down to a daemon that slows down with more in flight", () => {
    const f = fixture({ min: 2 });
    // Best at 4 in flight; contention makes every start beyond that cost throughput.
    const seen = saturate(f, 1000, (c) => (c <= 4 ? c : Math.max(0.5, 4 - (c - 4) * 0.2)));
    const late = seen.slice(-300);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...late)).toBeLessThanOrEqual(6);
  });

  it("stays within its bounds", () => {
    const up = fixture({ min: 2, max: 20 });
    expect(Math.max(...saturate(up, 500, (c) => c))).toBe(20);
    const down = fixture({ min: 3, max: 20 });
    expect(Math.min(...saturate(down, 500, (c) => 10 / c))).toBe(3);
    const byDefault = fixture();
    expect(Math.min(...saturate(byDefault, 500, (c) => 10 / c))).toBe(4);
  });
});
