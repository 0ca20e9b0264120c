import { describe, expect, it } from "vitest";
import { ConfChangeDecodeError, decodeConfChange, encodeConfChange } from "../src/conf-change-codec.js";

describe("conf change codec", () => {
  it("round-trips", () => {
    const cc = { type: "removeNode" as const, nodeId: 2 ** 40 + 3, context: new Uint8Array([1, 2, 3]) };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    const add = { type: "addNode" as const, nodeId: 7, context: new Uint8Array(0) };
    expect(decodeConfChange(encodeConfChange(add))).toEqual(add);
  });

  it("rejects bad input", () => {
    expect(() => encodeConfChange({ type: "addNode", nodeId: 0, context: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => decodeConfChange(new Uint8Array(3))).toThrow(ConfChangeDecodeError);
    const bad = encodeConfChange({ type: "addNode", nodeId: 1, context: new Uint8Array(0) });
    bad[1] = 9;
    expect(() => decodeConfChange(bad)).toThrow(/type/);
    bad[0] = 2;
    expect(() => decodeConfChange(bad)).toThrow(/version/);
  });
});
