import { describe, expect, it } from "vitest";
import { CompactedError, RaftInvariantError, SnapOutOfDateError, UnavailableError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import { ENTRY_OVERHEAD_BYTES } from "../src/entry-size.js";
import { ent, ents, indexTerms } from "./support/entries.js";

/** Storage holding a snapshot at 3/3 and entries 4/4, 5/5. */
function storage345(): MemoryStorage {
  const s = new MemoryStorage();
  s.append(ents(1, 1, 2, 3, 4, 5));
  s.createSnapshot(3, { voters: [1] }, new Uint8Array(0));
  s.compact(3);
  return s;
}

describe("MemoryStorage", () => {
  it("starts empty at index 0 with the given configuration", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState().confState.voters).toEqual([1, 2]);
    expect(() => s.entries(1, 1, 100)).toThrow(UnavailableError);
  });

  it("answers term() in [firstIndex-1, lastIndex] and throws compacted / unavailable outside", () => {
    const s = storage345();
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(s.term(3)).toBe(3);
    expect(s.term(4)).toBe(4);
    expect(s.term(5)).toBe(5);
    expect(() => s.term(6)).toThrow(UnavailableError);
  });

  it("returns entries within a byte budget, at least one", () => {
    const s = storage345();
    expect(() => s.entries(3, 5, 1000)).toThrow(CompactedError);
    expect(indexTerms(s.entries(4, 5, 1000))).toEqual([[4, 4]]);
    expect(indexTerms(s.entries(4, 6, 1000))).toEqual([
      [4, 4],
      [5, 5],
    ]);
    expect(indexTerms(s.entries(4, 6, 0))).toEqual([[4, 4]]);
    expect(indexTerms(s.entries(4, 6, 2 * ENTRY_OVERHEAD_BYTES))).toEqual([
      [4, 4],
      [5, 5],
    ]);
    expect(indexTerms(s.entries(4, 6, 2 * ENTRY_OVERHEAD_BYTES - 1))).toEqual([[4, 4]]);
    expect(() => s.entries(4, 7, 1000)).toThrow();
  });

  it("reports first and last index around the snapshot", () => {
    const s = storage345();
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(5);
    s.compact(5);
    expect(s.firstIndex()).toBe(6);
    expect(s.lastIndex()).toBe(5);
    expect(s.term(5)).toBe(5);
  });

  it("compacts only forwards and within the log", () => {
    const s = storage345();
    expect(() => s.compact(2)).toThrow(CompactedError);
    expect(() => s.compact(3)).toThrow(CompactedError);
    expect(() => s.compact(6)).toThrow();
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.term(4)).toBe(4);
  });

  it("creates snapshots at applied indexes only forwards", () => {
    const s = storage345();
    expect(() => s.createSnapshot(3, undefined, new Uint8Array(0))).toThrow(SnapOutOfDateError);
    const snap = s.createSnapshot(5, { voters: [1, 2] }, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 5, term: 5, confState: { voters: [1, 2] } });
    expect(s.snapshot()).toBe(snap);
    expect(() => s.createSnapshot(5, undefined, new Uint8Array(0))).toThrow(SnapOutOfDateError);
    expect(() => s.createSnapshot(6, undefined, new Uint8Array(0))).toThrow(RaftInvariantError);
  });

  it("appends, overwriting conflicting tails and ignoring compacted prefixes", () => {
    const cases: Array<{ append: ReturnType<typeof ents>; want: Array<[number, number]> }> = [
      {
        append: ents(3, 3, 4, 5),
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
      {
        append: ents(3, 3, 6, 6),
        want: [
          [3, 3],
          [4, 6],
          [5, 6],
        ],
      },
      {
        append: ents(3, 3, 4, 5, 5),
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
      {
        append: ents(2, 3, 3, 5),
        want: [
          [3, 3],
          [4, 5],
        ],
      }, // 2 is compacted: skipped
      {
        append: ents(4, 5),
        want: [
          [3, 3],
          [4, 5],
        ],
      }, // truncate from 4
      {
        append: ents(5, 5),
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
      {
        append: ents(6, 5),
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
    ];
    for (const c of cases) {
      const s = storage345();
      s.append(c.append);
      const got: Array<[number, number]> = [[3, s.term(3)]];
      for (let i = s.firstIndex(); i <= s.lastIndex(); i++) got.push([i, s.term(i)]);
      expect(got).toEqual(c.want);
    }
  });

  it("refuses an append that would leave a gap", () => {
    const s = storage345();
    expect(() => s.append([ent(7, 5)])).toThrow(/missing log entry/);
  });

  it("applies a newer snapshot, replacing the log, and refuses an older one", () => {
    const s = storage345();
    const snap = { data: new Uint8Array(0), metadata: { index: 8, term: 6, confState: { voters: [1, 2, 3] } } };
    s.applySnapshot(snap);
    expect(s.firstIndex()).toBe(9);
    expect(s.lastIndex()).toBe(8);
    expect(s.term(8)).toBe(6);
    expect(s.initialState().confState.voters).toEqual([1, 2, 3]);
    expect(() => s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 7 } })).toThrow(SnapOutOfDateError);
  });

  it("keeps the hard state", () => {
    const s = new MemoryStorage();
    s.setHardState({ term: 3, vote: 2, commit: 0 });
    expect(s.initialState().hardState).toEqual({ term: 3, vote: 2, commit: 0 });
  });
});
