// Randomness as a dependency, as time is (Clock in @shoal/shared): code that draws random ids and seeds
// takes a RandomBytes, so that a test can replay it with a seeded one.
import { randomBytes } from "node:crypto";
import { seededRandom } from "@shoal/raft";

/** `size` random bytes. */
export type RandomBytes = (size: number) => Uint8Array;

/** Cryptographically strong randomness (node:crypto). */
export const cryptoRandomBytes: RandomBytes = (size) => randomBytes(size);

/** Reproducible bytes from a seed: for tests, never for secrets. */
export function seededRandomBytes(seed: number): RandomBytes {
  const next = seededRandom(seed).next;
  return (size) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = Math.floor(next() * 256);
    return out;
  };
}

/** An unsigned integer of `bytes` (1 to 6) random bytes, big-endian. */
export function randomUint(random: RandomBytes, bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 6) throw new RangeError("randomUint: 1 to 6 bytes");
  let n = 0;
  for (const b of random(bytes)) n = n * 256 + b;
  return n;
}
