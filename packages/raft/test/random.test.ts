import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/random.js";

describe("seededRandom", () => {
  it("is deterministic per seed and stays in range", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 100 }, () => a.intn(10));
    expect(Array.from({ length: 100 }, () => b.intn(10))).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.intn(10))).not.toEqual(xs);
    expect(Math.min(...xs)).toBe(0);
    expect(Math.max(...xs)).toBe(9);
  });
});
