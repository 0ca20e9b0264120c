// Object ids as Docker Swarm makes them: 25 characters of [0-9a-z], from 128 random bits.
import { randomBytes } from "node:crypto";

export const ID_LENGTH = 25;
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newId(random: (size: number) => Uint8Array = pooledRandomBytes): string {
  const bytes = random(16);
  // The 128-bit number in four 32-bit words, most significant first, divided by 36 once per
  // digit (long division in plain numbers: a BigInt per id cost about 30 µs on the write path).
  const words = [0, 1, 2, 3].map(
    (w) => ((bytes[w * 4]! << 24) | (bytes[w * 4 + 1]! << 16) | (bytes[w * 4 + 2]! << 8) | bytes[w * 4 + 3]!) >>> 0,
  );
  const digits: string[] = new Array<string>(ID_LENGTH);
  for (let i = ID_LENGTH - 1; i >= 0; i--) {
    let rest = 0;
    for (let w = 0; w < 4; w++) {
      const value = rest * 2 ** 32 + words[w]!;
      words[w] = Math.floor(value / 36);
      rest = value - words[w]! * 36;
    }
    digits[i] = ALPHABET[rest]!;
  }
  return digits.join("");
}

/** Random bytes from a pool refilled 4 KiB at a time: one call into OpenSSL per 256 ids. */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
function pooledRandomBytes(size: number): Uint8Array {
  if (poolAt + size > pool.length) {
    pool = randomBytes(Math.max(POOL_SIZE, size));
    poolAt = 0;
  }
  const out = pool.subarray(poolAt, poolAt + size);
  poolAt += size;
  return out;
}

export function isId(value: string): boolean {
  return value.length === ID_LENGTH && /^[0-9a-z]+$/.test(value);
}

/** The short form shown in tables and container names (12 characters, as docker shows). */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
