// Sizes used for flow control (maxSizePerMsg, maxInflightBytes, maxCommittedSizePerReady). Counting the
// payload plus a fixed per-entry overhead keeps empty entries from being free and is stable across encodings.
import type { Entry } from "./types.js";

/** Bytes counted for an entry's index, term and type, on top of its payload. */
export const ENTRY_OVERHEAD_BYTES = 16;

export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export function entrySize(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export function entriesSize(ents: readonly Entry[]): number {
  let size = 0;
  for (const e of ents) size += entrySize(e);
  return size;
}

/** The longest prefix of `ents` whose size stays within `maxSize`; never fewer than one entry. */
export function limitSize<T extends Entry>(ents: T[], maxSize: number): T[] {
  if (ents.length <= 1) return ents;
  let size = 0;
  let limit = 0;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit] as T);
    if (limit > 0 && size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}
