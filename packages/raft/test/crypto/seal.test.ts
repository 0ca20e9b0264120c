import { describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";
import { SEAL_OVERHEAD, SealAuthError, UnknownKeyError, seal, sealedKeyId, unseal } from "../../src/crypto/seal.js";

const aad = Buffer.from("test");

describe("seal / unseal", () => {
  it("round-trips the concatenation of the parts, with a fresh nonce each time", () => {
    const key = DataKey.generate();
    const ring = new KeyRing(key);
    const a = seal(key, aad, [Buffer.from("hello "), Buffer.from("world")]);
    const b = seal(key, aad, [Buffer.from("hello world")]);
    expect(a.byteLength).toBe(11 + SEAL_OVERHEAD);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from("hello"))).toBe(false);
    expect(sealedKeyId(a)).toBe(key.id);
    expect(unseal(ring, aad, a).toString()).toBe("hello world");
    expect(unseal(ring, aad, b).toString()).toBe("hello world");
    expect(unseal(ring, aad, seal(key, aad, [])).byteLength).toBe(0);
  });

  it("says which key is missing when the ring does not hold it", () => {
    const key = DataKey.generate();
    const sealed = seal(key, aad, [Buffer.from("x")]);
    expect(() => unseal(new KeyRing(DataKey.generate()), aad, sealed)).toThrow(UnknownKeyError);
    try {
      unseal(new KeyRing(), aad, sealed);
    } catch (err: unknown) {
      expect((err as UnknownKeyError).keyId).toBe(key.id);
    }
  });

  it("detects any flipped bit of nonce, ciphertext or tag, and another aad", () => {
    const key = DataKey.generate();
    const ring = new KeyRing(key);
    const sealed = seal(key, aad, [Buffer.from("some secret payload")]);
    for (let at = 8; at < sealed.byteLength; at++) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x10;
      expect(() => unseal(ring, aad, bad)).toThrow(SealAuthError);
    }
    expect(() => unseal(ring, Buffer.from("other"), sealed)).toThrow(SealAuthError);
    expect(() => unseal(ring, aad, sealed.subarray(0, SEAL_OVERHEAD - 1))).toThrow(SealAuthError);
  });
});
