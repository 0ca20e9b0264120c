import { describe, expect, it } from "vitest";
import { AppliedIndex } from "../../../src/state/raft/applied-index.js";

describe("AppliedIndex", () => {
  it("resolves each waiter once its index is applied, in any order of asking", async () => {
    const applied = new AppliedIndex();
    const done: number[] = [];
    const waits = [5, 2, 9].map((i) => applied.wait(i).then(() => done.push(i)));
    applied.set(4);
    await Promise.resolve();
    expect(done).toEqual([2]);
    expect(applied.size).toBe(2);
    applied.set(9);
    await Promise.all(waits);
    expect(done).toEqual([2, 5, 9]);
    expect(applied.value).toBe(9);
    await applied.wait(3);
  });

  it("rejects what waits, and later waits, once closed; an index already applied still resolves", async () => {
    const applied = new AppliedIndex();
    applied.set(3);
    const waiting = applied.wait(10);
    applied.close(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    await expect(applied.wait(11)).rejects.toThrow("stopping");
    await applied.wait(3);
  });
});
