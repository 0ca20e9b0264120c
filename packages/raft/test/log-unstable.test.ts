import { describe, expect, it } from "vitest";
import { Unstable } from "../src/log-unstable.js";
import type { Snapshot } from "../src/types.js";
import { ents, indexTerms } from "./support/entries.js";

function snap(index: number, term: number): Snapshot {
  return { data: new Uint8Array(0), metadata: { index, term, confState: { voters: [1] } } };
}

function unstable(offset: number, terms: number[], s?: Snapshot): Unstable {
  const u = new Unstable(offset);
  if (s !== undefined) u.snapshot = s;
  u.entries = ents(offset, ...terms);
  return u;
}

describe("Unstable", () => {
  it("knows the first index only through a snapshot", () => {
    expect(unstable(5, [1]).maybeFirstIndex()).toBeUndefined();
    expect(unstable(5, [1], snap(4, 1)).maybeFirstIndex()).toBe(5);
    expect(unstable(5, [], snap(4, 1)).maybeFirstIndex()).toBe(5);
  });

  it("knows the last index through entries, else the snapshot", () => {
    expect(unstable(5, [1]).maybeLastIndex()).toBe(5);
    expect(unstable(5, [1], snap(4, 1)).maybeLastIndex()).toBe(5);
    expect(unstable(5, [], snap(4, 1)).maybeLastIndex()).toBe(4);
    expect(unstable(0, []).maybeLastIndex()).toBeUndefined();
  });

  it("knows terms of its entries and of the snapshot's last entry", () => {
    const u = unstable(5, [1], snap(4, 1));
    expect(u.maybeTerm(5)).toBe(1);
    expect(u.maybeTerm(6)).toBeUndefined();
    expect(u.maybeTerm(4)).toBe(1);
    expect(u.maybeTerm(3)).toBeUndefined();
    expect(unstable(5, [1]).maybeTerm(4)).toBeUndefined();
  });

  it("restores a snapshot, dropping entries", () => {
    const u = unstable(5, [1], snap(4, 1));
    u.restore(snap(6, 2));
    expect(u.offset).toBe(7);
    expect(u.entries).toEqual([]);
    expect(u.snapshot?.metadata.index).toBe(6);
  });

  it("marks entries stable only if the term still matches", () => {
    const cases: Array<{ u: Unstable; i: number; t: number; offset: number; len: number }> = [
      { u: unstable(0, []), i: 5, t: 1, offset: 0, len: 0 },
      { u: unstable(5, [1]), i: 5, t: 1, offset: 6, len: 0 },
      { u: unstable(5, [1, 1]), i: 5, t: 1, offset: 6, len: 1 },
      { u: unstable(6, [2]), i: 6, t: 1, offset: 6, len: 1 }, // term mismatch: replaced since
      { u: unstable(5, [1]), i: 4, t: 1, offset: 5, len: 1 }, // before the unstable entries
      { u: unstable(5, [1]), i: 4, t: 2, offset: 5, len: 1 },
      { u: unstable(5, [1], snap(4, 1)), i: 5, t: 1, offset: 6, len: 0 },
      { u: unstable(5, [1, 1], snap(4, 1)), i: 5, t: 1, offset: 6, len: 1 },
      { u: unstable(5, [1], snap(4, 1)), i: 4, t: 1, offset: 5, len: 1 },
    ];
    for (const c of cases) {
      c.u.stableTo(c.i, c.t);
      expect([c.u.offset, c.u.entries.length]).toEqual([c.offset, c.len]);
    }
  });

  it("marks the snapshot stable only for its own index", () => {
    const u = unstable(5, [], snap(4, 1));
    u.stableSnapTo(3);
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(4);
    expect(u.snapshot).toBeUndefined();
  });

  it("appends after, replaces or truncates", () => {
    const cases: Array<{ u: Unstable; add: ReturnType<typeof ents>; offset: number; want: Array<[number, number]> }> = [
      {
        u: unstable(5, [1]),
        add: ents(6, 1, 1),
        offset: 5,
        want: [
          [5, 1],
          [6, 1],
          [7, 1],
        ],
      },
      {
        u: unstable(5, [1]),
        add: ents(5, 2, 2),
        offset: 5,
        want: [
          [5, 2],
          [6, 2],
        ],
      },
      {
        u: unstable(5, [1]),
        add: ents(4, 2, 2, 2),
        offset: 4,
        want: [
          [4, 2],
          [5, 2],
          [6, 2],
        ],
      },
      {
        u: unstable(5, [1, 1, 1]),
        add: ents(6, 2),
        offset: 5,
        want: [
          [5, 1],
          [6, 2],
        ],
      },
      {
        u: unstable(5, [1, 1, 1]),
        add: ents(7, 2, 2),
        offset: 5,
        want: [
          [5, 1],
          [6, 1],
          [7, 2],
          [8, 2],
        ],
      },
    ];
    for (const c of cases) {
      c.u.truncateAndAppend(c.add);
      expect(c.u.offset).toBe(c.offset);
      expect(indexTerms(c.u.entries)).toEqual(c.want);
    }
  });

  it("slices within its entries only", () => {
    const u = unstable(5, [1, 2, 3]);
    expect(indexTerms(u.slice(6, 8))).toEqual([
      [6, 2],
      [7, 3],
    ]);
    expect(() => u.slice(4, 6)).toThrow();
    expect(() => u.slice(6, 9)).toThrow();
  });
});
