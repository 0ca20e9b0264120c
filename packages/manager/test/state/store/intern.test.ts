import { describe, expect, it } from "vitest";
import { FieldInterner, deepEqual } from "../../../src/state/store/intern.js";

describe("deepEqual", () => {
  it("compares decoded protobuf values", () => {
    expect(deepEqual({ a: [1, { b: "x" }], d: new Date(5) }, { a: [1, { b: "x" }], d: new Date(5) })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual({ a: undefined }, { b: undefined })).toBe(false);
    expect(deepEqual(new Date(1), new Date(2))).toBe(false);
    expect(deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(deepEqual(new Uint8Array([1, 2]), [1, 2])).toBe(false);
    expect(deepEqual({ $case: "a", value: {} }, { $case: "b", value: {} })).toBe(false);
    expect(deepEqual(0, -0)).toBe(false);
    expect(deepEqual(NaN, NaN)).toBe(true);
    expect(deepEqual({ labels: { a: "1", b: "2" } }, { labels: { b: "2", a: "1" } })).toBe(false); // order shows in bytes
  });
});

describe("FieldInterner", () => {
  interface Obj {
    key: string;
    spec: { image: string };
  }
  const field = new FieldInterner<Obj, Obj["spec"]>({
    key: (o) => o.key,
    get: (o) => o.spec,
    set: (o, v) => (o.spec = v),
  });

  it("shares equal values under one key, and frees the shared value with its last user", () => {
    const a: Obj = { key: "k", spec: { image: "x" } };
    const b: Obj = { key: "k", spec: { image: "x" } };
    const c: Obj = { key: "k", spec: { image: "y" } };
    field.retain(a);
    field.retain(b);
    field.retain(c);
    expect(b.spec).toBe(a.spec);
    expect(c.spec).not.toBe(a.spec);
    expect(field.size).toBe(1);
    field.release(c);
    field.release(a);
    expect(field.size).toBe(1);
    field.release(b);
    expect(field.size).toBe(0);
  });
});
