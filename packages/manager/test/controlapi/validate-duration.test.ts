import { describe, expect, it } from "vitest";
import { validateDuration } from "../../src/controlapi/validate-duration.js";

const check =
  (seconds: number, nanos: number, bounds = {}) =>
  () =>
    validateDuration({ seconds, nanos }, "f", bounds);

describe("validateDuration", () => {
  it("accepts unset, zero and well-formed durations", () => {
    expect(() => validateDuration(undefined, "f")).not.toThrow();
    expect(check(0, 0)).not.toThrow();
    expect(check(5, 999_999_999)).not.toThrow();
  });

  it("refuses malformed ones, as sent by the e2e fuzz (nanos over a second, fractional, beyond 2^53)", () => {
    expect(check(1, 1_000_000_000)).toThrow(/^f: is not a valid duration/);
    expect(check(1, 0.5)).toThrow(/^f: is not a valid duration/);
    expect(check(2 ** 53 + 2, 0)).toThrow(/^f: is not a valid duration/);
  });

  it("refuses negative ones and those beyond protobuf's 10000 years", () => {
    expect(check(-1, 0)).toThrow("f: cannot be negative");
    expect(check(0, -1)).toThrow("f: cannot be negative");
    expect(check(315_576_000_001, 0)).toThrow("f: is longer than 10000 years");
  });

  it("applies the field's bounds", () => {
    const bounds = { min: { ms: 100, text: "100ms" }, max: { ms: 1000, text: "1s" } };
    expect(check(0, 99_000_000, bounds)).toThrow("f: must be at least 100ms");
    expect(check(1, 1, bounds)).toThrow("f: must be at most 1s");
    expect(check(1, 0, bounds)).not.toThrow();
  });
});
