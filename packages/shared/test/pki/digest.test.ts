import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { caDigest } from "../../src/pki/index.js";
import { fromBase36, toBase36 } from "../../src/pki/digest.js";
import { newRoot } from "./fixtures.js";

describe("caDigest", () => {
  it("is the SHA-256 of the certificate's DER bytes, in hex", async () => {
    const root = await newRoot();
    const der = new X509Certificate(root.certPem).raw;
    expect(caDigest(root.certPem)).toBe(createHash("sha256").update(der).digest("hex"));
    expect(root.digest).toBe(caDigest(root.certPem));
  });

  it("does not change with the PEM's line endings or surrounding text", async () => {
    const root = await newRoot();
    const mangled = `some notes\r\n${root.certPem.replaceAll("\n", "\r\n")}\r\n`;
    expect(caDigest(mangled)).toBe(root.digest);
  });

  it("differs between two roots", async () => {
    expect((await newRoot()).digest).not.toBe((await newRoot()).digest);
  });

  it("refuses text without a certificate", () => {
    expect(() => caDigest("nothing here")).toThrow(/no CERTIFICATE block/);
  });
});

describe("base 36", () => {
  it("round-trips numbers of a fixed size, zero-padded", () => {
    const bytes = Uint8Array.from([0, 0, 1, 255]);
    const text = toBase36(bytes, 10);
    expect(text).toBe("00000000e7"); // 511 = 14 * 36 + 7
    expect([...fromBase36(text, 4)!]).toEqual([...bytes]);
    expect(toBase36(new Uint8Array(32).fill(255), 50)).toHaveLength(50);
  });

  it("refuses other characters and numbers too big for the size", () => {
    expect(fromBase36("ABC", 4)).toBeUndefined();
    expect(fromBase36("zzzzzzzz", 2)).toBeUndefined();
  });
});
