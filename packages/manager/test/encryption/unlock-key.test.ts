import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { InvalidUnlockKeyError, UnlockKey } from "../../src/encryption/unlock-key.js";

describe("UnlockKey", () => {
  it("shows as SWMKEY-1-<base64url> and parses back", () => {
    const k = UnlockKey.generate();
    const text = k.reveal();
    expect(text).toMatch(/^SWMKEY-1-[A-Za-z0-9_-]{43}$/);
    expect(UnlockKey.parse(`  ${text}\n`).equals(k)).toBe(true);
    expect(UnlockKey.generate().equals(k)).toBe(false);
  });

  it("refuses malformed keys with a clear error", () => {
    for (const bad of ["", "SWMKEY-1-", "SWMKEY-2-abc", "SWMKEY-1-!!!!", `SWMKEY-1-${"A".repeat(40)}`]) {
      expect(() => UnlockKey.parse(bad)).toThrow(InvalidUnlockKeyError);
    }
  });

  it("stays out of JSON and inspect", () => {
    const k = UnlockKey.generate();
    const body = k.reveal().slice(9);
    expect(JSON.stringify({ k })).not.toContain(body);
    expect(inspect({ k })).not.toContain(body);
  });

  it("derives a different KEK per salt", () => {
    const k = UnlockKey.generate();
    expect(k.deriveKek(Buffer.alloc(16, 1)).equals(k.deriveKek(Buffer.alloc(16, 1)))).toBe(true);
    expect(k.deriveKek(Buffer.alloc(16, 1)).equals(k.deriveKek(Buffer.alloc(16, 2)))).toBe(false);
  });
});
