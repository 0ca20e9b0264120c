// A 52-bit non-cryptographic hash for compact fingerprints of logs and state machines in tests.
const MASK21 = 0x1fffff;

function fnv(str: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Fold `item` into the running fingerprint `prev`. */
export function chainHash(prev: number, item: string): number {
  const s = `${prev}|${item}`;
  return fnv(s, 0x811c9dc5) * 2 ** 21 + (fnv(s, 0x9747b28c) & MASK21);
}

export function bytesToString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

export function stringToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}
