import { describe, expect, it } from "vitest";
import { cryptoRandomBytes, randomUint, seededRandomBytes } from "../src/random-bytes.js";

describe("random bytes", () => {
  it("draws the asked number of bytes", () => {
    expect(cryptoRandomBytes(8)).toHaveLength(8);
    expect(seededRandomBytes(1)(3)).toHaveLength(3);
  });

  it("replays the same bytes from the same seed", () => {
    const a = seededRandomBytes(42);
    const b = seededRandomBytes(42);
    expect([...a(16)]).toEqual([...b(16)]);
    expect([...seededRandomBytes(43)(16)]).not.toEqual([...seededRandomBytes(42)(16)]);
  });

  it("reads an unsigned big-endian integer of 1 to 6 bytes", () => {
    const fixed = (size: number): Uint8Array => new Uint8Array(size).fill(0xff);
    expect(randomUint(fixed, 1)).toBe(255);
    expect(randomUint(fixed, 4)).toBe(0xffff_ffff);
    expect(randomUint(fixed, 6)).toBe(2 ** 48 - 1);
    expect(randomUint(() => new Uint8Array([1, 2]), 2)).toBe(0x0102);
    expect(() => randomUint(fixed, 7)).toThrow(RangeError);
  });
});
