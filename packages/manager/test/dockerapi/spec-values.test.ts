import { describe, expect, it } from "vitest";
import { defined, duration, invert, nanos, pick, whole } from "../../src/dockerapi/spec-values.js";

describe("spec values", () => {
  it("turns nanoseconds into Durations and back", () => {
    expect(duration(1_500_000_000, "f")).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(nanos({ seconds: 1, nanos: 500_000_000 })).toBe(1_500_000_000);
    expect(duration(undefined, "f")).toBeUndefined();
    expect(duration(null as unknown as undefined, "f")).toBeUndefined();
    expect(nanos(undefined)).toBeUndefined();
  });

  it("takes whole numbers of at least 0 only, naming the field", () => {
    expect(whole(undefined, "f")).toBe(0);
    expect(whole(7, "f")).toBe(7);
    expect(() => whole(1.5, "A.B")).toThrow("A.B: must be a whole number of at least 0, not 1.5");
    expect(() => duration(-1, "A.Delay")).toThrow("A.Delay: must be a whole number of at least 0, not -1");
  });

  it("picks enum values by name, and names them back", () => {
    const table = { on: 1, off: 2 } as const;
    expect(pick(table, "off", "f")).toBe(2);
    expect(() => pick(table, "toString", "A.Switch")).toThrow('A.Switch: "toString" is not one of on, off');
    expect(invert(table).get(1)).toBe("on");
  });

  it("drops undefined fields as Docker omits them", () => {
    expect(defined({ a: 1, b: undefined, c: 0, d: "" })).toEqual({ a: 1, c: 0, d: "" });
  });
});
