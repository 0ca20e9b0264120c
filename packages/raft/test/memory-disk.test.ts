import { describe, expect, it } from "vitest";
import { CLEAR, DataKey } from "../src/crypto/index.js";
import { SnapOutOfDateError } from "../src/errors.js";
import { MemoryRaftDisk, type MemoryDiskWrite } from "../src/memory-disk.js";
import type { Snapshot } from "../src/types.js";
import { DiskClosedError } from "../src/wal/errors.js";
import { ents, indexTerms } from "./support/entries.js";

const snap = (index: number, term: number, voters = [1]): Snapshot => ({
  data: new Uint8Array([index]),
  metadata: { index, term, confState: { voters } },
});

describe("MemoryRaftDisk", () => {
  it("makes what persist() is given visible in its storage and records each write in order", async () => {
    const seen: MemoryDiskWrite["kind"][] = [];
    const disk = new MemoryRaftDisk({ onWrite: (w) => seen.push(w.kind) });
    await disk.persist({ entries: ents(1, 1, 2), hardState: { term: 2, vote: 1, commit: 1 }, mustSync: true });
    await disk.persist({ entries: [], hardState: { term: 2, vote: 1, commit: 2 }, mustSync: false });
    expect(indexTerms(disk.storage.entries(1, 3, 1000))).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(disk.storage.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 2 });
    expect(disk.writes.map((w) => (w.kind === "persist" ? w.mustSync : w.kind))).toEqual([true, false]);
    expect(seen).toEqual(["persist", "persist"]);
  });

  it("replaces the log with a received snapshot", async () => {
    const disk = new MemoryRaftDisk();
    await disk.persist({ entries: ents(1, 1), mustSync: true });
    await disk.persist({ snapshot: snap(5, 3), entries: [], hardState: { term: 3, vote: 0, commit: 5 } });
    expect(disk.storage.snapshot().metadata.index).toBe(5);
    expect(disk.storage.firstIndex()).toBe(6);
  });

  it("saves a snapshot of the applied state, keeps retainEntries before it, refuses an older one", async () => {
    const disk = new MemoryRaftDisk();
    await disk.persist({ entries: ents(1, 1, 1, 1, 1), hardState: { term: 1, vote: 1, commit: 4 } });
    await disk.saveSnapshot(snap(4, 1), { retainEntries: 2 });
    expect(disk.storage.snapshot().metadata.index).toBe(4);
    expect(disk.storage.firstIndex()).toBe(3);
    await expect(disk.saveSnapshot(snap(3, 1))).rejects.toBeInstanceOf(SnapOutOfDateError);
    expect(disk.writes.at(-1)).toMatchObject({ kind: "saveSnapshot", retainEntries: 2 });
  });

  it("reopens with exactly what was persisted", async () => {
    const disk = new MemoryRaftDisk();
    await disk.persist({ entries: ents(1, 1, 1, 2, 2), hardState: { term: 2, vote: 1, commit: 4 } });
    await disk.saveSnapshot(snap(2, 1));
    const again = disk.reopen();
    expect(again.storage.snapshot().metadata.index).toBe(2);
    expect(indexTerms(again.storage.entries(3, 5, 1000))).toEqual([
      [3, 2],
      [4, 2],
    ]);
    expect(again.storage.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 4 });
    expect(again.writes).toEqual([]);
  });

  it("tracks the data keys in use: a rotation, then a snapshot, releases the old key", async () => {
    const disk = new MemoryRaftDisk();
    await disk.persist({ entries: ents(1, 1) });
    const key = DataKey.generate();
    await disk.rotateKey(key);
    await disk.persist({ entries: ents(2, 1) });
    expect(await disk.keysInUse()).toEqual(new Set([CLEAR, key.id]));
    await disk.saveSnapshot(snap(2, 1));
    expect([...(await disk.keysInUse())]).toEqual([key.id]);
  });

  it("refuses writes once closed", async () => {
    const disk = new MemoryRaftDisk();
    await disk.close();
    await disk.close();
    expect(disk.isClosed).toBe(true);
    await expect(disk.persist({ entries: [] })).rejects.toBeInstanceOf(DiskClosedError);
  });
});
