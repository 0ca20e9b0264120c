import { describe, expect, it } from "vitest";
import { committedIndex, majority, voteResult } from "../../src/quorum/majority.js";

describe("majority quorums", () => {
  it("needs more than half", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(majority)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it("commits what a majority acknowledged; unknown voters count as 0", () => {
    const acked = (m: Record<number, number>) => (id: number) => m[id];
    expect(committedIndex([], acked({}))).toBe(0);
    expect(committedIndex([1], acked({ 1: 12 }))).toBe(12);
    expect(committedIndex([1, 2], acked({ 1: 12, 2: 5 }))).toBe(5);
    expect(committedIndex([1, 2, 3], acked({ 1: 12, 2: 5, 3: 10 }))).toBe(10);
    expect(committedIndex([1, 2, 3], acked({ 1: 12 }))).toBe(0);
    expect(committedIndex([1, 2, 3], acked({ 1: 12, 3: 3 }))).toBe(3);
    expect(committedIndex([1, 2, 3, 4, 5], acked({ 1: 9, 2: 8, 3: 7, 4: 6, 5: 5 }))).toBe(7);
  });

  it("decides elections as soon as the outcome is certain", () => {
    const votes = (m: Record<number, boolean>) => new Map(Object.entries(m).map(([k, v]) => [Number(k), v]));
    expect(voteResult([], votes({}))).toBe("won");
    expect(voteResult([1, 2, 3], votes({}))).toBe("pending");
    expect(voteResult([1, 2, 3], votes({ 1: true }))).toBe("pending");
    expect(voteResult([1, 2, 3], votes({ 1: true, 2: true }))).toBe("won");
    expect(voteResult([1, 2, 3], votes({ 1: true, 2: false }))).toBe("pending");
    expect(voteResult([1, 2, 3], votes({ 2: false, 3: false }))).toBe("lost");
    expect(voteResult([1, 2, 3, 4], votes({ 1: true, 2: true }))).toBe("pending");
    expect(voteResult([1, 2, 3, 4], votes({ 1: true, 2: false, 3: false }))).toBe("lost");
    expect(voteResult([1, 2, 3], votes({ 1: true, 9: true }))).toBe("pending"); // non-voters do not count
  });
});
