// AES-256-GCM sealing of one byte string (a WAL record, a snapshot file's body):
//
//   keyId (8) | nonce (12) | ciphertext | tag (16)
//
// The nonce is random (96 bits, drawn from a pooled buffer of randomFillSync): with random nonces one key
// should seal well under 2^32 messages; a WAL writes one sealed record per record, and a DEK rotation
// starts a new key. `aad` binds the ciphertext to what it is (a WAL record of some type, a snapshot at
// some term and index) so that one cannot be passed off as another.
import type { CipherGCM, DecipherGCM } from "node:crypto";
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import type { DataKey, KeyRing } from "./data-key.js";
import { KEY_ID_BYTES } from "./data-key.js";

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes a sealed string has beyond its plaintext. */
export const SEAL_OVERHEAD = KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES;
const ALGORITHM = "aes-256-gcm";

const pool = Buffer.alloc(NONCE_BYTES * 512);
let poolAt = pool.byteLength;

function nextNonce(): Buffer {
  if (poolAt + NONCE_BYTES > pool.byteLength) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const n = Buffer.from(pool.subarray(poolAt, poolAt + NONCE_BYTES));
  pool.fill(0, poolAt, poolAt + NONCE_BYTES); // a nonce is never handed out twice
  poolAt += NONCE_BYTES;
  return n;
}

/** No key of the ring has the id a sealed string names. */
export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`sealed with data key ${keyId}, which is not among the keys given`);
  }
}

/** The key is right but the tag does not match: the bytes (or the aad) were changed. */
export class SealAuthError extends Error {
  constructor(readonly keyId: string) {
    super(`fails authentication under data key ${keyId}`);
  }
}

/** The key id a sealed string names (hex), or undefined when it is too short to be one. */
export function sealedKeyId(sealed: Uint8Array): string | undefined {
  if (sealed.byteLength < SEAL_OVERHEAD) return undefined;
  return Buffer.from(sealed.buffer, sealed.byteOffset, KEY_ID_BYTES).toString("hex");
}

/** Seal the concatenation of `parts`; the result starts with `reserve` bytes left for the caller to fill. */
export function seal(key: DataKey, aad: Uint8Array, parts: readonly Uint8Array[], reserve = 0): Buffer {
  const nonce = nextNonce();
  const cipher: CipherGCM = createCipheriv(ALGORITHM, key.material(), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const out: Buffer[] = [Buffer.alloc(reserve), key.idBytes(), nonce];
  for (const p of parts) out.push(cipher.update(p));
  out.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(out);
}

/** Open a sealed string with the key of the ring it names. */
export function unseal(ring: KeyRing, aad: Uint8Array, sealed: Uint8Array): Buffer {
  const id = sealedKeyId(sealed);
  if (id === undefined) throw new SealAuthError("(none: too short)");
  const key = ring.get(id);
  if (key === undefined) throw new UnknownKeyError(id);
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(KEY_ID_BYTES, KEY_ID_BYTES + NONCE_BYTES);
  const tag = buf.subarray(buf.byteLength - TAG_BYTES);
  const decipher: DecipherGCM = createDecipheriv(ALGORITHM, key.material(), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plain = decipher.update(buf.subarray(KEY_ID_BYTES + NONCE_BYTES, buf.byteLength - TAG_BYTES));
  try {
    const rest = decipher.final();
    return rest.byteLength === 0 ? plain : Buffer.concat([plain, rest]);
  } catch {
    throw new SealAuthError(id);
  }
}
