import { describe, expect, it } from "vitest";
import { SigningQueue } from "../../src/ca/signing-queue.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A clock the signatures move: each takes `costMs` of it. */
function clockedSign(clock: { ms: number }, costMs: number) {
  return async (): Promise<number> => {
    clock.ms += costMs;
    await tick();
    return clock.ms;
  };
}

describe("SigningQueue", () => {
  it("signs one at a time, in the order asked, and goes on after a failure", async () => {
    const queue = new SigningQueue(() => 0);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const sign = (i: number) => async (): Promise<number> => {
      running++;
      most = Math.max(most, running);
      await tick();
      await tick();
      order.push(i);
      running--;
      if (i === 2) throw new Error("bad request");
      return i * 10;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => queue.run(sign(i))));
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : "failed"))).toEqual([0, 10, "failed", 30, 40]);
    expect(queue.waiting).toBe(0);
  });

  it("does not sign for a caller that has gone by its turn", async () => {
    const queue = new SigningQueue(() => 0);
    const gone = new AbortController();
    let signed = 0;
    const first = queue.run(async () => {
      gone.abort();
      return ++signed;
    });
    const second = queue.run(async () => ++signed, { signal: gone.signal });
    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toThrow();
    expect(signed).toBe(1);
  });

  it("tells callers past its bound to come back, with UNAVAILABLE", async () => {
    const queue = new SigningQueue(() => 0, 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const a = queue.run(() => held);
    const b = queue.run(() => Promise.resolve());
    await expect(queue.run(() => Promise.resolve())).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/2 certificates to sign before this one/),
    });
    release();
    await Promise.all([a, b]);
    await expect(queue.run(() => Promise.resolve("again"))).resolves.toBe("again");
  });

  it("turns away at once a caller whose deadline the queue cannot meet, by what signatures cost", async () => {
    const clock = { ms: 0 };
    const queue = new SigningQueue(() => clock.ms);
    // Signatures measured at 100 ms each (the average moves there from its first guess).
    for (let i = 0; i < 20; i++) await queue.run(clockedSign(clock, 100));
    const start = clock.ms;
    const waiting = [1, 2, 3].map(() => queue.run(clockedSign(clock, 100), { deadline: start + 10_000 }));
    // Three ahead: a fourth needs about 400 ms; 300 ms is too little, 1 s is enough.
    await expect(queue.run(clockedSign(clock, 100), { deadline: start + 300 })).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
    const fits = queue.run(clockedSign(clock, 100), { deadline: start + 1000 });
    await Promise.all(waiting);
    await expect(fits).resolves.toBeGreaterThan(start);
  });

  it("skips a caller whose deadline passed while it waited", async () => {
    const clock = { ms: 0 };
    const queue = new SigningQueue(() => clock.ms);
    let signed = 0;
    // The first signature takes far longer than the estimate: the second's deadline goes by.
    const first = queue.run(async () => {
      clock.ms += 5000;
      return ++signed;
    });
    const second = queue.run(async () => ++signed, { deadline: 1000 });
    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(signed).toBe(1);
  });
});
