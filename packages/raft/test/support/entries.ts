// Shorthands for building entries in tests.
import type { Entry } from "../../src/index.js";

const EMPTY = new Uint8Array(0);

export function ent(index: number, term: number, data?: string): Entry {
  return { index, term, type: "normal", data: data === undefined ? EMPTY : new TextEncoder().encode(data) };
}

/** Entries with the given terms at consecutive indexes starting from `from`. */
export function ents(from: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => ent(from + i, t));
}

export function indexTerms(es: readonly Entry[]): Array<[number, number]> {
  return es.map((e) => [e.index, e.term]);
}
