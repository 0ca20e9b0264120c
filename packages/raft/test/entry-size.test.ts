import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD_BYTES, entriesSize, limitSize } from "../src/entry-size.js";
import { ent } from "./support/entries.js";

describe("entry sizes", () => {
  it("count payload plus overhead, and limit to at least one entry", () => {
    const es = [ent(1, 1, "abcd"), ent(2, 1, "ab"), ent(3, 1)];
    expect(entriesSize(es)).toBe(6 + 3 * ENTRY_OVERHEAD_BYTES);
    expect(limitSize(es, 0)).toHaveLength(1);
    expect(limitSize(es, 4 + ENTRY_OVERHEAD_BYTES)).toHaveLength(1);
    expect(limitSize(es, 6 + 2 * ENTRY_OVERHEAD_BYTES)).toHaveLength(2);
    expect(limitSize(es, 1e9)).toHaveLength(3);
    expect(limitSize([], 0)).toHaveLength(0);
  });
});
