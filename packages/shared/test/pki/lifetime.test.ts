import { describe, expect, it } from "vitest";
import { DEFAULT_NODE_CERT_LIFETIME_MS, newSerialNumber, renewalDelayMs, validityFrom } from "../../src/pki/index.js";
import { DAY, NOW } from "./fixtures.js";

const HOUR = 60 * 60 * 1000;

describe("validityFrom", () => {
  it("starts an hour back for long lifetimes (clock skew) and ends a lifetime after now", () => {
    const v = validityFrom(NOW, DEFAULT_NODE_CERT_LIFETIME_MS);
    expect(v.notBefore.getTime()).toBe(NOW - HOUR);
    expect(v.notAfter.getTime()).toBe(NOW + 90 * DAY);
  });

  it("backdates short lifetimes by a tenth at most", () => {
    const v = validityFrom(NOW, 2 * 60 * 1000);
    expect(v.notBefore.getTime()).toBe(NOW - 12_000);
    expect(v.notAfter.getTime()).toBe(NOW + 120_000);
  });

  it("never ends after the cap (the issuing CA's end), and rounds to whole seconds", () => {
    const cap = new Date(NOW + DAY);
    expect(validityFrom(NOW, 90 * DAY, cap).notAfter).toEqual(cap);
    expect(validityFrom(NOW + 1_500, DAY).notAfter.getTime() % 1000).toBe(0);
  });
});

describe("renewalDelayMs", () => {
  const validity = { notBefore: new Date(NOW), notAfter: new Date(NOW + 100 * DAY) };

  it("renews between 50% and 80% of the validity, as the random source says", () => {
    expect(renewalDelayMs(validity, NOW, () => 0)).toBe(50 * DAY);
    expect(renewalDelayMs(validity, NOW, () => 0.5)).toBe(65 * DAY);
    expect(renewalDelayMs(validity, NOW, () => 0.999999)).toBeCloseTo(80 * DAY, -4);
  });

  it("counts from now", () => {
    expect(renewalDelayMs(validity, NOW + 10 * DAY, () => 0)).toBe(40 * DAY);
  });

  it("is 0 once the renewal point has passed, or for an empty validity", () => {
    expect(renewalDelayMs(validity, NOW + 85 * DAY, () => 0)).toBe(0);
    expect(renewalDelayMs(validity, NOW + 200 * DAY)).toBe(0);
    expect(renewalDelayMs({ notBefore: new Date(NOW), notAfter: new Date(NOW) }, NOW)).toBe(0);
  });

  it("spreads nodes over the window with the default source", () => {
    const delays = Array.from({ length: 200 }, () => renewalDelayMs(validity, NOW));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(50 * DAY);
      expect(d).toBeLessThanOrEqual(80 * DAY);
    }
    expect(new Set(delays).size).toBeGreaterThan(150);
  });

  it("gives a 2-minute certificate a renewal about a minute after issue", () => {
    const v = validityFrom(NOW, 2 * 60 * 1000);
    const d = renewalDelayMs(v, NOW, () => 0);
    expect(d).toBeGreaterThan(45_000);
    expect(d).toBeLessThan(60_000);
  });
});

describe("newSerialNumber", () => {
  it("is 128 bits, positive and not zero", () => {
    expect(newSerialNumber((n) => new Uint8Array(n).fill(255))).toBe(`7f${"ff".repeat(15)}`);
    expect(newSerialNumber((n) => new Uint8Array(n))).toBe(`01${"00".repeat(15)}`);
    expect(newSerialNumber()).toMatch(/^[0-7][0-9a-f]{31}$/);
  });
});
