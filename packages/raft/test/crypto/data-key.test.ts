import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";

describe("DataKey", () => {
  it("has a stable id derived from the key, and keeps the key out of JSON and inspect", () => {
    const bytes = Buffer.alloc(32, 7);
    const a = new DataKey(bytes);
    const b = new DataKey(Buffer.from(bytes));
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.id).toBe(b.id);
    expect(DataKey.generate().id).not.toBe(a.id);
    expect(a.bytes().equals(bytes)).toBe(true);
    const hex = bytes.toString("hex");
    expect(JSON.stringify({ k: a })).not.toContain(hex);
    expect(inspect(a)).not.toContain("0707");
    expect(JSON.stringify(a)).toBe(`{"id":"${a.id}"}`);
  });

  it("copies the key: wiping the caller's buffer changes nothing", () => {
    const bytes = Buffer.alloc(32, 9);
    const k = new DataKey(bytes);
    bytes.fill(0);
    expect(k.bytes().every((b) => b === 9)).toBe(true);
  });

  it("refuses a key of the wrong length", () => {
    expect(() => new DataKey(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe("KeyRing", () => {
  it("writes with the current key and reads with every key it was given", () => {
    const old = DataKey.generate();
    const cur = DataKey.generate();
    const ring = new KeyRing(old);
    expect(ring.current).toBe(old);
    ring.setCurrent(cur);
    expect(ring.current).toBe(cur);
    expect(ring.get(old.id)).toBe(old);
    expect(ring.ids().sort()).toEqual([old.id, cur.id].sort());
    expect(new KeyRing(undefined, [old]).current).toBeUndefined();
  });
});
