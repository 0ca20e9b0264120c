import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { DiskClosedError, DiskInvalidArgumentError, Wal } from "../../src/wal/index.js";
import { captureLogger, makeEntries, tempDir } from "./helpers.js";

const hs = (term: number, commit: number, vote = 1) => ({ term, vote, commit });

describe("Wal", () => {
  it("creates an empty log in an empty directory", async () => {
    const dir = await tempDir();
    const { wal, hardState, entries, snapshot } = await Wal.open(dir);
    expect(hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    expect(entries).toEqual([]);
    expect(snapshot).toEqual({ index: 0, term: 0 });
    expect(wal.segmentNames()).toEqual(["0000000000000000-0000000000000001.wal"]);
    await wal.close();
    expect((await readdir(dir)).sort()).toEqual(["0000000000000000-0000000000000001.wal"]);
  });

  it("round-trips hard state and entries", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 0), makeEntries(1, 3, 1));
    await wal.save(hs(2, 3), makeEntries(4, 2, 2, 1000));
    await wal.save(hs(2, 5), []);
    expect(wal.lastIndex()).toBe(5);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.hardState).toEqual(hs(2, 5));
    expect(again.entries).toEqual([...makeEntries(1, 3, 1), ...makeEntries(4, 2, 2, 1000)]);
    expect(again.wal.lastIndex()).toBe(5);
    await again.wal.close();
  });

  it("lets later entries at an index overwrite a conflicting tail", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 2), makeEntries(1, 10, 1));
    await wal.save(hs(2, 2), makeEntries(6, 3, 2)); // a new leader cuts 6..10 and writes 6..8
    await wal.save(undefined, makeEntries(9, 1, 2));
    await wal.save(hs(3, 2), makeEntries(3, 1, 3)); // and again from 3
    await wal.close();
    const { wal: w2, entries } = await Wal.open(dir);
    expect(entries).toEqual([...makeEntries(1, 2, 1), ...makeEntries(3, 1, 3)]);
    await w2.close();
  });

  it("starts replay at the newest snapshot marker", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 10), makeEntries(1, 10, 1));
    await wal.saveSnapshot({ index: 4, term: 1 });
    await wal.saveSnapshot({ index: 8, term: 1 });
    await expect(wal.saveSnapshot({ index: 7, term: 1 })).rejects.toThrow(DiskInvalidArgumentError);
    await wal.save(hs(1, 12), makeEntries(11, 2, 1));
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.snapshot).toEqual({ index: 8, term: 1 });
    expect(r.entries.map((e) => e.index)).toEqual([9, 10, 11, 12]);
    expect(r.hardState).toEqual(hs(1, 12));
    await r.wal.close();
  });

  it("can replay from an older marker when asked (a corrupt newest snapshot)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 10), makeEntries(1, 10, 1));
    await wal.saveSnapshot({ index: 4, term: 1 });
    await wal.saveSnapshot({ index: 8, term: 1 });
    await wal.close();
    const r = await Wal.open(dir, { replayFrom: () => ({ index: 4, term: 1 }) });
    expect(r.snapshot).toEqual({ index: 4, term: 1 });
    expect(r.entries.map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10]);
    await r.wal.close();
    await expect(Wal.open(dir, { replayFrom: () => ({ index: 4, term: 2 }) })).rejects.toMatchObject({
      code: "ERR_DISK_DATA_LOSS",
    });
  });

  it("replaces the log with a snapshot received from a leader", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 3), makeEntries(1, 5, 1));
    // The leader's snapshot is at 100: the old log is gone, the next entries follow the snapshot.
    await wal.save(hs(4, 100), makeEntries(101, 3, 4), { snapshot: { index: 100, term: 3 } });
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.snapshot).toEqual({ index: 100, term: 3 });
    expect(r.entries).toEqual(makeEntries(101, 3, 4));
    await r.wal.close();
    // Replay cannot go back before a snapshot that replaced the log.
    await expect(Wal.open(dir, { replayFrom: () => ({ index: 0, term: 0 }) })).rejects.toMatchObject({
      code: "ERR_DISK_DATA_LOSS",
    });
  });

  it("drops entries that disagree with a received snapshot inside the log", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(hs(1, 2), makeEntries(1, 6, 1));
    await wal.save(hs(2, 4), [], { snapshot: { index: 4, term: 2 } }); // entry 4 has term 1 here
    await wal.save(undefined, makeEntries(5, 2, 2));
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries).toEqual(makeEntries(5, 2, 2));
    await r.wal.close();
    await expect(Wal.open(dir, { replayFrom: () => ({ index: 0, term: 0 }) })).rejects.toThrow(/reach back/);
  });

  it("rolls segments and releases whole segments covered by a snapshot", async () => {
    const dir = await tempDir();
    const logger = captureLogger();
    const { wal } = await Wal.open(dir, { segmentBytes: 4096, logger });
    await wal.save(hs(1, 0, 7), []); // the only hardState record with vote 7 until the end
    for (let i = 0; i < 40; i++) await wal.save(undefined, makeEntries(1 + i * 5, 5, 1, 100));
    const names = wal.segmentNames();
    expect(names.length).toBeGreaterThan(5);
    expect(names[1]).toMatch(/^0000000000000001-00000000000000\d\d\.wal$/);
    // Each segment is named after the first entry written to it.
    const firsts = names.map((n) => Number(n.slice(17, 33)));
    expect(firsts[0]).toBe(1);
    for (const f of firsts.slice(1)) expect((f - 1) % 5).toBe(0);

    await expect(wal.releaseTo(100)).rejects.toThrow(/past the newest snapshot/);
    await wal.saveSnapshot({ index: 150, term: 1 });
    const removed = await wal.releaseTo(150);
    expect(removed.length).toBeGreaterThan(0);
    const kept = wal.segmentNames();
    expect(kept[0]).toBe(names[removed.length]);
    expect(Number(kept[0]!.slice(17, 33))).toBeLessThanOrEqual(151);
    expect((await readdir(dir)).filter((n) => n.endsWith(".wal")).sort()).toEqual(kept);
    await wal.close();

    const r = await Wal.open(dir, { segmentBytes: 4096 });
    expect(r.snapshot).toEqual({ index: 150, term: 1 });
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
    expect(r.hardState).toEqual(hs(1, 0, 7)); // carried into each new segment
    await r.wal.releaseTo(150);
    await r.wal.close();
  });

  it("keeps the segment being written, and keeps segments an overwrite depends on", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 10; i++) await wal.save(undefined, makeEntries(1 + i * 5, 5, 1, 100));
    await wal.save(undefined, makeEntries(20, 5, 2, 100)); // overwrites 20.. in a later segment
    await wal.saveSnapshot({ index: 24, term: 2 });
    await wal.releaseTo(24);
    for (const n of wal.segmentNames()) expect(n).toBeDefined();
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries).toEqual([]);
    expect(r.snapshot).toEqual({ index: 24, term: 2 });
    expect(r.wal.lastIndex()).toBe(24);
    await r.wal.close();
  });

  it("reopens again and again, appending each time", async () => {
    const dir = await tempDir();
    let expected: ReturnType<typeof makeEntries> = [];
    for (let round = 0; round < 6; round++) {
      const r = await Wal.open(dir, { segmentBytes: 3000 });
      expect(r.entries).toEqual(expected);
      const next = makeEntries(expected.length + 1, 7, round + 1, 150);
      await r.wal.save(hs(round + 1, expected.length), next);
      expected = [...expected, ...next];
      await r.wal.close();
    }
  });

  it("mixes unsynced and synced saves, also past the rewrite limit", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 8 * 1024 * 1024 });
    let next = 1;
    const sizes = [100, 100, 300_000, 600_000, 200_000, 100];
    for (const [k, size] of sizes.entries()) {
      // Several unsynced saves (more than 1 MiB in all for the bigger ones), then a synced one.
      for (let i = 0; i < 4; i++) {
        await wal.save(hs(1, next - 1), makeEntries(next, 1, 1, size), { sync: false });
        next++;
      }
      await wal.save(hs(1, next - 1), makeEntries(next, 1, 1, 50), { sync: k % 2 === 0 });
      next++;
    }
    await wal.close();
    const r = await Wal.open(dir, { segmentBytes: 8 * 1024 * 1024 });
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
    expect(r.entries[10]).toEqual(makeEntries(11, 1, 1, 300_000)[0]);
    expect(r.hardState).toEqual(hs(1, next - 2));
    await r.wal.close();
  });

  it("writes concurrent saves in call order, coalesced", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) saves.push(wal.save(hs(1, i), makeEntries(i + 1, 1, 1)));
    await Promise.all(saves);
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries).toEqual(makeEntries(1, 200, 1));
    expect(r.hardState).toEqual(hs(1, 199));
    await r.wal.close();
  });

  it("runs releases and saves issued together, in order, without waiting on each other", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1024 });
    for (let i = 0; i < 20; i++) await wal.save(undefined, makeEntries(1 + i * 5, 5, 1, 100));
    await wal.saveSnapshot({ index: 50, term: 1 });
    const ops: Promise<unknown>[] = [];
    for (let i = 20; i < 40; i++) {
      ops.push(wal.releaseTo(50 + (i - 20)));
      ops.push(wal.save(undefined, makeEntries(1 + i * 5, 5, 1, 100)));
      if (i % 5 === 0) ops.push(wal.saveSnapshot({ index: 50 + (i - 20) * 5, term: 1 }));
    }
    await Promise.all(ops);
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.snapshot).toEqual({ index: 125, term: 1 });
    expect(r.entries).toEqual(makeEntries(126, 75, 1, 100));
    await r.wal.close();
  });

  it("flushes saves issued before close, refuses those after; close is idempotent", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const pending = wal.save(hs(1, 1), makeEntries(1, 1, 1));
    const closing = wal.close();
    await expect(wal.save(hs(1, 1), makeEntries(2, 1, 1))).rejects.toThrow(DiskClosedError);
    await pending;
    await closing;
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries).toHaveLength(1);
    await r.wal.close();
  });

  it("refuses every save after a failed write (the file's state is unknown)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.save(undefined, makeEntries(1, 1, 1));
    // Pull the file out from under the log: the next write fails with EBADF.
    await (wal as unknown as { writer: { close(): Promise<void> } }).writer.close();
    await expect(wal.save(undefined, makeEntries(2, 1, 1))).rejects.toMatchObject({ code: "EBADF" });
    const err = await wal.save(undefined, makeEntries(2, 1, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiskClosedError);
    expect((err as Error).message).toMatch(/after a failed write/);
    await expect(wal.releaseTo(0)).rejects.toBeInstanceOf(DiskClosedError);
    await wal.close().catch(() => undefined);
  });

  it("refuses a batch that is not contiguous without writing anything", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await expect(wal.save(undefined, [...makeEntries(1, 1, 1), ...makeEntries(3, 1, 1)])).rejects.toThrow(
      DiskInvalidArgumentError,
    );
    await wal.save(undefined, makeEntries(1, 2, 1));
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries).toEqual(makeEntries(1, 2, 1));
    await r.wal.close();
  });
});
