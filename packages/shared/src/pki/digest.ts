// The CA digest that join tokens carry: SHA-256 of the root certificate's DER bytes.
//
// SwarmKit hashes the PEM text; Shoal hashes the DER, which does not change with line endings or
// PEM headers, so a digest made from a certificate copied by hand still matches.
import { createHash } from "node:crypto";
import { CertificateError } from "./errors.js";
import { pemBlocks } from "./x509.js";

/** SHA-256 of the first certificate in `certPem`, as 64 lowercase hex characters. */
export function caDigest(certPem: string): string {
  const der = pemBlocks(certPem, "CERTIFICATE")[0];
  if (!der) throw new CertificateError("malformed", "no CERTIFICATE block in the CA PEM");
  return createHash("sha256").update(der).digest("hex");
}

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";

/** `bytes` as a big-endian number in base 36, left-padded with zeros to `width` characters. */
export function toBase36(bytes: Uint8Array, width: number): string {
  let n = bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = BASE36[Number(n % 36n)]! + out;
    n /= 36n;
  }
  return out.padStart(width, "0");
}

/** The inverse of toBase36 for a number of `size` bytes; undefined if it is not base 36 or too big. */
export function fromBase36(text: string, size: number): Uint8Array | undefined {
  if (!/^[0-9a-z]+$/.test(text)) return undefined;
  let n = 0n;
  for (const ch of text) n = n * 36n + BigInt(BASE36.indexOf(ch));
  const hex = n.toString(16);
  if (hex.length > size * 2) return undefined;
  return new Uint8Array(Buffer.from(hex.padStart(size * 2, "0"), "hex"));
}
