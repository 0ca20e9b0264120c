import { describe, expect, it } from "vitest";
import { CompactedError, UnavailableError } from "../src/errors.js";
import { RaftLog } from "../src/log.js";
import { MemoryStorage } from "../src/memory-storage.js";
import { ent, ents, indexTerms } from "./support/entries.js";

function logWith(terms: number[]): RaftLog {
  const l = new RaftLog(new MemoryStorage());
  l.append(ents(1, ...terms));
  return l;
}

/** A log whose storage holds a snapshot at `offset` and entries after it up to `last`, all of term 1+i. */
function compactedLog(offset: number, last: number): RaftLog {
  const s = new MemoryStorage();
  const all = [];
  for (let i = 1; i <= last; i++) all.push(ent(i, i));
  s.append(all);
  s.createSnapshot(offset, { voters: [1] }, new Uint8Array(0));
  s.compact(offset);
  return new RaftLog(s);
}

describe("RaftLog", () => {
  it("finds the first conflicting entry", () => {
    const l = logWith([1, 2, 3]);
    const cases: Array<[ReturnType<typeof ents>, number]> = [
      [[], 0],
      [ents(1, 1, 2, 3), 0],
      [ents(2, 2, 3), 0],
      [ents(3, 3), 0],
      [ents(1, 1, 2, 3, 4, 4), 4], // new entries
      [ents(3, 3, 4, 4), 4],
      [ents(1, 4, 4), 1], // conflicting terms
      [ents(2, 1, 4, 4), 2],
      [ents(3, 1, 2, 4, 4), 3],
    ];
    for (const [e, want] of cases) expect(l.findConflict(e)).toBe(want);
  });

  it("finds the last possible match by term for fast backtracking", () => {
    // Log terms: index 1..7 = [1, 1, 2, 2, 5, 5, 5].
    const l = logWith([1, 1, 2, 2, 5, 5, 5]);
    expect(l.findConflictByTerm(7, 5)).toEqual({ index: 7, term: 5 });
    expect(l.findConflictByTerm(7, 4)).toEqual({ index: 4, term: 2 });
    expect(l.findConflictByTerm(7, 2)).toEqual({ index: 4, term: 2 });
    expect(l.findConflictByTerm(7, 1)).toEqual({ index: 2, term: 1 });
    expect(l.findConflictByTerm(7, 0)).toEqual({ index: 0, term: 0 });
    expect(l.findConflictByTerm(3, 5)).toEqual({ index: 3, term: 2 });
    // Below a compaction point the term is unknown: a possible match of term 0.
    const c = compactedLog(3, 6);
    expect(c.findConflictByTerm(6, 3)).toEqual({ index: 3, term: 3 });
    expect(c.findConflictByTerm(6, 2)).toEqual({ index: 2, term: 0 });
  });

  it("is up to date by last term, then by last index (5.4.1)", () => {
    const l = logWith([1, 2, 3]);
    expect(l.isUpToDate(2, 4)).toBe(true); // higher term wins with a shorter log
    expect(l.isUpToDate(3, 4)).toBe(true);
    expect(l.isUpToDate(2, 2)).toBe(false); // lower term loses with any length
    expect(l.isUpToDate(4, 2)).toBe(false);
    expect(l.isUpToDate(2, 3)).toBe(false); // same term: longer or equal wins
    expect(l.isUpToDate(3, 3)).toBe(true);
    expect(l.isUpToDate(4, 3)).toBe(true);
  });

  it("appends and reports the last index; refuses to rewrite committed entries", () => {
    const l = logWith([1, 2]);
    expect(l.append(ents(3, 2))).toBe(3);
    expect(l.append(ents(2, 3))).toBe(2); // truncates
    expect(indexTerms(l.entries(1, 1000))).toEqual([
      [1, 1],
      [2, 3],
    ]);
    l.commitTo(2);
    expect(() => l.append(ents(2, 4))).toThrow(/out of range/);
  });

  it("maybeAppend: matches, appends, truncates conflicts and commits within what it was sent", () => {
    const lastIndex = 3;
    const lastTerm = 3;
    const commit = 1;
    const cases: Array<{
      logTerm: number;
      index: number;
      committed: number;
      ents: ReturnType<typeof ents>;
      want: number | undefined;
      wantCommit: number;
      panic?: boolean;
    }> = [
      // not a match: term mismatch or index beyond the log
      {
        logTerm: lastTerm - 1,
        index: lastIndex,
        committed: lastIndex,
        ents: ents(4, 4),
        want: undefined,
        wantCommit: commit,
      },
      {
        logTerm: lastTerm,
        index: lastIndex + 1,
        committed: lastIndex,
        ents: ents(5, 4),
        want: undefined,
        wantCommit: commit,
      },
      // match with the last entry
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex, ents: [], want: 3, wantCommit: 3 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 1, ents: [], want: 3, wantCommit: 3 }, // commit <= last new
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex - 1, ents: [], want: 3, wantCommit: 2 },
      { logTerm: lastTerm, index: lastIndex, committed: 0, ents: [], want: 3, wantCommit: commit }, // never back
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex, ents: ents(4, 4), want: 4, wantCommit: 3 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 1, ents: ents(4, 4), want: 4, wantCommit: 4 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 2, ents: ents(4, 4), want: 4, wantCommit: 4 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 2, ents: ents(4, 4, 4), want: 5, wantCommit: 5 },
      // match with an entry in the middle
      { logTerm: lastTerm - 1, index: lastIndex - 1, committed: lastIndex, ents: ents(3, 4), want: 3, wantCommit: 3 },
      { logTerm: lastTerm - 2, index: lastIndex - 2, committed: lastIndex, ents: ents(2, 4), want: 2, wantCommit: 2 },
      // conflict with a committed entry
      {
        logTerm: lastTerm - 3,
        index: lastIndex - 3,
        committed: lastIndex,
        ents: ents(1, 4),
        want: undefined,
        wantCommit: 0,
        panic: true,
      },
      {
        logTerm: lastTerm - 2,
        index: lastIndex - 2,
        committed: lastIndex,
        ents: ents(2, 4, 4),
        want: 3,
        wantCommit: 3,
      },
    ];
    for (const c of cases) {
      const l = logWith([1, 2, 3]);
      l.commitTo(commit);
      if (c.panic === true) {
        expect(() => l.maybeAppend(c.index, c.logTerm, c.committed, c.ents)).toThrow(/conflicts with committed/);
        continue;
      }
      expect(l.maybeAppend(c.index, c.logTerm, c.committed, c.ents)).toBe(c.want);
      expect(l.committed).toBe(c.wantCommit);
      if (c.want !== undefined && c.ents.length > 0) {
        expect(indexTerms(l.slice(c.index + 1, c.want + 1, 1_000_000))).toEqual(indexTerms(c.ents));
      }
    }
  });

  it("commits only forward and never beyond the last index", () => {
    const l = logWith([1, 2, 3]);
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(() => l.commitTo(4)).toThrow(/out of range/);
  });

  it("commits by counting only entries of the given term (5.4.2)", () => {
    const l = logWith([1, 2, 3]);
    expect(l.maybeCommit(2, 3)).toBe(false); // entry 2 has term 2
    expect(l.committed).toBe(0);
    expect(l.maybeCommit(3, 3)).toBe(true);
    expect(l.committed).toBe(3);
    expect(l.maybeCommit(2, 2)).toBe(false); // never backwards
  });

  it("hands out committed entries once, from the applied index, within a byte budget", () => {
    const l = new RaftLog(new MemoryStorage(), 40);
    l.append(ents(1, 1, 1, 1));
    expect(l.hasNextCommittedEntries()).toBe(false);
    l.commitTo(3);
    expect(l.hasNextCommittedEntries()).toBe(true);
    const first = l.nextCommittedEntries();
    expect(indexTerms(first)).toEqual([
      [1, 1],
      [2, 1],
    ]); // 2 * 16 bytes fit, a third would not
    l.acceptApplying(2);
    expect(indexTerms(l.nextCommittedEntries())).toEqual([[3, 1]]);
    l.acceptApplying(3);
    expect(l.hasNextCommittedEntries()).toBe(false);
    l.appliedTo(3);
    expect(l.applied).toBe(3);
    expect(() => l.appliedTo(2)).toThrow();
  });

  it("serves terms and slices across storage and unstable parts, and reports compaction", () => {
    const l = compactedLog(3, 5); // storage: snapshot 3/3, entries 4/4, 5/5
    l.append([ent(6, 6), ent(7, 7)]);
    expect(l.firstIndex()).toBe(4);
    expect(l.lastIndex()).toBe(7);
    expect(l.term(3)).toBe(3);
    expect(() => l.term(2)).toThrow(CompactedError);
    expect(() => l.term(8)).toThrow(UnavailableError);
    expect(l.zeroTermOnOutOfBounds(8)).toBe(0);
    expect(indexTerms(l.slice(4, 8, 1_000_000))).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
      [7, 7],
    ]);
    expect(indexTerms(l.slice(5, 7, 1_000_000))).toEqual([
      [5, 5],
      [6, 6],
    ]);
    expect(indexTerms(l.slice(4, 8, 0))).toEqual([[4, 4]]);
    expect(() => l.slice(3, 5, 1000)).toThrow(CompactedError);
    expect(() => l.slice(4, 9, 1000)).toThrow(/out of bound/);
  });

  it("restores a snapshot: everything up to it is committed and the log starts after it", () => {
    const l = logWith([1, 1]);
    l.restore({ data: new Uint8Array(0), metadata: { index: 10, term: 4, confState: { voters: [1] } } });
    expect(l.committed).toBe(10);
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.lastTerm()).toBe(4);
    expect(l.matchTerm(10, 4)).toBe(true);
    expect(l.hasNextCommittedEntries()).toBe(false);
  });

  it("notices unapplied committed conf changes", () => {
    const l = logWith([1, 1]);
    l.append([{ index: 3, term: 1, type: "confChange", data: new Uint8Array(0) }]);
    l.commitTo(2);
    expect(l.hasUnappliedConfChanges()).toBe(false);
    l.commitTo(3);
    expect(l.hasUnappliedConfChanges()).toBe(true);
    l.appliedTo(3);
    expect(l.hasUnappliedConfChanges()).toBe(false);
  });
});
