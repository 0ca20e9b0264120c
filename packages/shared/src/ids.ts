// Object ids as Docker Swarm makes them: 25 characters of [0-9a-z], from 128 random bits.
import { randomBytes } from "node:crypto";

export const ID_LENGTH = 25;
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newId(random: (size: number) => Uint8Array = randomBytes): string {
  let n = BigInt(`0x${Buffer.from(random(16)).toString("hex")}`);
  let out = "";
  for (let i = 0; i < ID_LENGTH; i++) {
    out = ALPHABET[Number(n % 36n)]! + out;
    n /= 36n;
  }
  return out;
}

export function isId(value: string): boolean {
  return value.length === ID_LENGTH && /^[0-9a-z]+$/.test(value);
}

/** The short form shown in tables and container names (12 characters, as docker shows). */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
