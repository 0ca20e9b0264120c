import { describe, expect, it } from "vitest";
import { ErrorCode, RestartCondition } from "@shoal/shared";
import { CONDITIONS, defined, duration, mergeUnder, nanos, pick, whole } from "../../src/dockerapi/spec-common.js";

describe("spec-common", () => {
  it("picks a name from a table, or says which names there are", () => {
    expect(pick(CONDITIONS, "on-failure", "Condition")).toBe(RestartCondition.ON_FAILURE);
    expect(() => pick(CONDITIONS, "toString", "Condition")).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message: 'Condition: "toString" is not one of any, on-failure, none',
      }),
    );
  });

  it("takes whole numbers of at least 0", () => {
    expect(whole(undefined, "f")).toBe(0);
    expect(() => whole(-1, "f")).toThrow(/whole number/);
    expect(() => whole(1.5, "f")).toThrow(/whole number/);
  });

  it("turns nanoseconds into Durations and back", () => {
    expect(duration(1_500_000_000, "f")).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(duration(undefined, "f")).toBeUndefined();
    expect(nanos({ seconds: 1, nanos: 500_000_000 })).toBe(1_500_000_000);
  });

  it("drops undefined entries, and merges kept-aside fields under the mapped ones", () => {
    expect(defined({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(mergeUnder({ a: 1, n: { x: 1 } }, { a: 2, b: 3, n: { x: 2, y: 2 } })).toEqual({
      a: 1,
      b: 3,
      n: { x: 1, y: 2 },
    });
  });
});
