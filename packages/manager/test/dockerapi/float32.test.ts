// Float32s written as Go writes them: the shortest decimal that reads back as the same float32.
import { describe, expect, it } from "vitest";
import { shortestFloat32 } from "../../src/dockerapi/float32.js";

describe("shortestFloat32", () => {
  it("gives back the decimal that was stored, not the float32's double", () => {
    expect(Math.fround(0.4)).toBe(0.4000000059604645);
    expect(shortestFloat32(Math.fround(0.4))).toBe(0.4);
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(0.25))).toBe(0.25);
    expect(shortestFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    expect(shortestFloat32(Math.fround(-0.7))).toBe(-0.7);
    expect(shortestFloat32(0)).toBe(0);
    expect(shortestFloat32(1)).toBe(1);
  });

  it("takes the extremes: the smallest subnormal, the largest float32, a power of two", () => {
    expect(shortestFloat32(2 ** -149)).toBe(1e-45);
    expect(shortestFloat32(3.4028234663852886e38)).toBe(3.4028235e38);
    expect(shortestFloat32(2 ** -20)).toBe(9.536743e-7);
    expect(shortestFloat32(16777216)).toBe(16777216);
  });

  it("breaks an exact tie between two as-short decimals towards the even digit, as Go does", () => {
    // 2854276.25 is a float32; 2854276.2 and 2854276.3 both read back as it.
    expect(shortestFloat32(2854276.25)).toBe(2854276.2);
    expect(shortestFloat32(1796994.25)).toBe(1796994.2);
    expect(shortestFloat32(-141732.625)).toBe(-141732.62);
  });

  it("always reads back as the same float32, in at most 9 digits", () => {
    for (let i = 1; i <= 2000; i++) {
      const f = Math.fround(Math.sin(i) * 10 ** ((i % 40) - 20));
      const s = shortestFloat32(f);
      expect(Math.fround(s)).toBe(f);
      expect(s.toExponential().replace(/^-?|e.*$|\./g, "").length).toBeLessThanOrEqual(9);
    }
  });
});
