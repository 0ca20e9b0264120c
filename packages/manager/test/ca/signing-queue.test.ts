import { describe, expect, it } from "vitest";
import { SigningQueue } from "../../src/ca/signing-queue.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("SigningQueue", () => {
  it("signs one at a time, in the order asked, and goes on after a failure", async () => {
    const queue = new SigningQueue();
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
    const queue = new SigningQueue();
    const gone = new AbortController();
    let signed = 0;
    const first = queue.run(async () => {
      gone.abort();
      return ++signed;
    });
    const second = queue.run(async () => ++signed, gone.signal);
    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toThrow();
    expect(signed).toBe(1);
  });

  it("tells callers past its bound to come back, with UNAVAILABLE", async () => {
    const queue = new SigningQueue(2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const a = queue.run(() => held);
    const b = queue.run(() => Promise.resolve());
    await expect(queue.run(() => Promise.resolve())).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringMatching(/2 certificates to sign already/),
    });
    release();
    await Promise.all([a, b]);
    await expect(queue.run(() => Promise.resolve("again"))).resolves.toBe("again");
  });
});
