import { describe, expect, it } from "vitest";
import { BoundedQueue } from "@shoal/shared";

describe("BoundedQueue", () => {
  it("hands items to a waiting consumer in order", async () => {
    const queue = new BoundedQueue<number>(4);
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
  });

  it("drops the oldest item when full and counts it", async () => {
    const queue = new BoundedQueue<number>(2);
    queue.push(1);
    queue.push(2);
    expect(queue.push(3)).toBe(false);
    expect(queue.dropped).toBe(1);
    queue.close();
    const seen: number[] = [];
    for await (const item of queue) seen.push(item);
    expect(seen).toEqual([2, 3]);
  });

  it("can drop the newest instead", () => {
    const queue = new BoundedQueue<number>(1, "drop-newest");
    queue.push(1);
    queue.push(2);
    expect(queue.size).toBe(1);
    expect(queue.dropped).toBe(1);
  });

  it("ends a waiting consumer on close, and ignores pushes after it", async () => {
    const queue = new BoundedQueue<string>(1);
    const waiting = queue.next();
    queue.close();
    queue.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(queue.push("late")).toBe(false);
  });
});
