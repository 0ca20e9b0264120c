import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MemoryStorage, Snapshot } from "../../src/index.js";
import { RawNode } from "../../src/index.js";
import { snapshotFileName } from "../../src/snapshot/snapshot-store.js";
import { SnapshotStore, openRaftDisk } from "../../src/wal/index.js";
import { captureLogger, makeEntries, tempDir } from "./helpers.js";

function dump(s: MemoryStorage) {
  const first = s.firstIndex();
  const last = s.lastIndex();
  return {
    initial: s.initialState(),
    snapshot: s.snapshot().metadata,
    snapshotData: Buffer.from(s.snapshot().data).toString("hex"),
    first,
    last,
    entries: last >= first ? s.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [],
  };
}

function snapAt(index: number, term: number): Snapshot {
  return {
    data: new TextEncoder().encode(`state@${index}`),
    metadata: { index, term, confState: { voters: [1, 2, 3] } },
  };
}

describe("openRaftDisk", () => {
  it("rebuilds the same MemoryStorage after a restart", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir, { segmentBytes: 4096 });
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 0 }, entries: makeEntries(1, 30, 1, 100) });
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 30 }, entries: [], mustSync: false });
    await disk.saveSnapshot(snapAt(20, 1), { retainEntries: 5 });
    expect(disk.storage.firstIndex()).toBe(16); // 5 entries kept before the snapshot in memory
    await disk.persist({ hardState: { term: 2, vote: 3, commit: 32 }, entries: makeEntries(29, 5, 2, 100) });
    const before = dump(disk.storage);
    await disk.close();
    await disk.close();

    const again = await openRaftDisk(dir, { segmentBytes: 4096 });
    const after = dump(again.storage);
    // After a restart the log starts at the snapshot: the entries retained in memory are not replayed.
    expect(after.snapshot).toEqual(before.snapshot);
    expect(after.snapshotData).toBe(before.snapshotData);
    expect(after.initial).toEqual(before.initial);
    expect(after.first).toBe(21);
    expect(after.entries).toEqual(before.entries.filter((e) => e.index > 20));
    expect(after.entries.map((e) => `${e.index}/${e.term}`).slice(-6)).toEqual([
      "28/1",
      "29/2",
      "30/2",
      "31/2",
      "32/2",
      "33/2",
    ]);
    await again.close();
  });

  it("releases the WAL up to the snapshot before the newest, and falls back to it when the newest is corrupt", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 10; i++) {
      await disk.persist({
        hardState: { term: 1, vote: 1, commit: i * 10 },
        entries: makeEntries(1 + i * 10, 10, 1, 100),
      });
    }
    await disk.saveSnapshot(snapAt(40, 1));
    await disk.saveSnapshot(snapAt(80, 1));
    await disk.persist({ entries: makeEntries(101, 10, 1, 100) });
    const segments = (await readdir(join(dir, "wal"))).filter((n) => n.endsWith(".wal"));
    expect(Number(segments.sort()[0]!.slice(17, 33))).toBeGreaterThan(1); // released some
    expect(Number(segments.sort()[0]!.slice(17, 33))).toBeLessThanOrEqual(41); // but not past 40
    await disk.close();

    const newest = join(dir, "snap", snapshotFileName(1, 80));
    const bytes = await readFile(newest);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(newest, bytes);
    const logger = captureLogger();
    const again = await openRaftDisk(dir, { logger });
    expect(again.storage.snapshot().metadata.index).toBe(40);
    expect(again.storage.firstIndex()).toBe(41);
    expect(again.storage.lastIndex()).toBe(110);
    expect(again.storage.entries(41, 111, Number.MAX_SAFE_INTEGER)).toEqual(makeEntries(41, 70, 1, 100));
    expect(logger.warnings().map((w) => w.msg)).toEqual([
      "skipping a corrupt snapshot file",
      "newest snapshot unusable; restoring an older one and more of the log",
    ]);
    await again.close();
  });

  it("ignores a snapshot file saved without its WAL marker (crash in between)", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir);
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 50 }, entries: makeEntries(1, 50, 1) });
    await disk.saveSnapshot(snapAt(10, 1));
    await disk.close();
    await new SnapshotStore(join(dir, "snap")).save(snapAt(45, 1)); // the file, and then the crash
    const again = await openRaftDisk(dir);
    expect(again.storage.snapshot().metadata.index).toBe(10);
    expect(again.storage.lastIndex()).toBe(50);
    await again.close();
  });

  it("persists a snapshot received from the leader, replacing the log", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir);
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 3 }, entries: makeEntries(1, 5, 1) });
    const snap = snapAt(1000, 4);
    await disk.persist({ hardState: { term: 5, vote: 0, commit: 1000 }, entries: [], snapshot: snap });
    await disk.persist({ hardState: { term: 5, vote: 0, commit: 1002 }, entries: makeEntries(1001, 2, 5) });
    const before = dump(disk.storage);
    expect(before.first).toBe(1001);
    await disk.close();
    const again = await openRaftDisk(dir);
    expect(dump(again.storage)).toEqual(before);
    await again.close();
  });

  it("refuses an out-of-date snapshot, and one that disagrees with the log", async () => {
    const dir = await tempDir();
    const disk = await openRaftDisk(dir);
    await disk.persist({ hardState: { term: 2, vote: 1, commit: 10 }, entries: makeEntries(1, 10, 2) });
    await disk.saveSnapshot(snapAt(8, 2));
    await expect(disk.saveSnapshot(snapAt(5, 2))).rejects.toMatchObject({ code: "ERR_RAFT_SNAP_OUT_OF_DATE" });
    await expect(disk.saveSnapshot(snapAt(9, 1))).rejects.toThrow(/term/);
    await expect(disk.saveSnapshot(snapAt(11, 2))).rejects.toThrow(/past the last index/);
    await disk.saveSnapshot(snapAt(8, 2)); // the same again is harmless
    await disk.close();
  });

  it("drives a RawNode that restarts from disk with the same state", async () => {
    const dir = await tempDir();
    const applied: string[] = [];
    let appliedIndex = 0;
    let confState = { voters: [] as number[] };

    async function drive(node: RawNode, disk: Awaited<ReturnType<typeof openRaftDisk>>): Promise<void> {
      while (node.hasReady()) {
        const rd = node.ready();
        await disk.persist(rd); // persist -> (send: single node) -> apply -> advance
        for (const e of rd.committedEntries) {
          if (e.type === "confChange") {
            confState = node.applyConfChange({ type: "addNode", nodeId: 1, context: new Uint8Array(0) });
          } else if (e.data.byteLength > 0) applied.push(new TextDecoder().decode(e.data));
          appliedIndex = e.index;
        }
        node.advance(rd);
        if (appliedIndex - disk.storage.snapshot().metadata.index >= 25) {
          const data = new TextEncoder().encode(JSON.stringify(applied));
          const snap = disk.storage.createSnapshot(appliedIndex, confState, data);
          await disk.saveSnapshot(snap, { retainEntries: 3 });
        }
      }
    }

    let disk = await openRaftDisk(dir, { segmentBytes: 4096 });
    let node = new RawNode({ id: 1, storage: disk.storage, electionTick: 10, heartbeatTick: 1 });
    node.bootstrap([1]);
    await drive(node, disk);
    node.campaign();
    await drive(node, disk);
    for (let i = 0; i < 100; i++) {
      node.propose(new TextEncoder().encode(`item-${i}`));
      await drive(node, disk);
    }
    expect(applied).toHaveLength(100);
    const lastIndex = disk.storage.lastIndex();
    await disk.close();

    for (let restart = 0; restart < 2; restart++) {
      disk = await openRaftDisk(dir, { segmentBytes: 4096 });
      const snap = disk.storage.snapshot();
      expect(snap.metadata.index).toBeGreaterThan(0);
      applied.length = 0;
      applied.push(...(JSON.parse(new TextDecoder().decode(snap.data)) as string[]));
      appliedIndex = snap.metadata.index;
      node = new RawNode({ id: 1, storage: disk.storage, electionTick: 10, heartbeatTick: 1, applied: appliedIndex });
      expect(disk.storage.lastIndex()).toBeGreaterThanOrEqual(lastIndex);
      node.campaign();
      await drive(node, disk);
      node.propose(new TextEncoder().encode(`after-restart-${restart}`));
      await drive(node, disk);
      expect(applied.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `item-${i}`));
      expect(applied[applied.length - 1]).toBe(`after-restart-${restart}`);
      await disk.close();
    }
  });
});
