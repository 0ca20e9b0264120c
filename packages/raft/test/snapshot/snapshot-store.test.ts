import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../src/index.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/snapshot/snapshot-codec.js";
import { SnapshotStore, snapshotFileName } from "../../src/snapshot/snapshot-store.js";
import { captureLogger, tempDir } from "../wal/helpers.js";

function snap(index: number, term: number, size = 1000): Snapshot {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index + i) & 0xff;
  return { data, metadata: { index, term, confState: { voters: [1, 2, 2 ** 40] } } };
}

describe("snapshot file codec", () => {
  it("round-trips, and detects any flipped byte or cut", () => {
    const s = snap(77, 3, 300);
    const file = Buffer.concat(encodeSnapshot(s));
    expect(decodeSnapshot(file)).toEqual(s);
    for (let at = 0; at < file.length; at += 7) {
      const bad = Buffer.from(file);
      bad[at]! ^= 0x04;
      expect(() => decodeSnapshot(bad)).toThrow();
    }
    for (const cut of [0, 10, 30, file.length - 1]) expect(() => decodeSnapshot(file.subarray(0, cut))).toThrow();
  });
});

describe("SnapshotStore", () => {
  it("saves and loads the newest snapshot; an empty store loads nothing", async () => {
    const dir = await tempDir("shoal-snap-");
    const store = new SnapshotStore(join(dir, "snap"));
    expect(await store.load()).toBeUndefined();
    expect(await store.save(snap(10, 1))).toBe(snapshotFileName(1, 10));
    await store.save(snap(20, 2));
    expect(await store.load()).toEqual(snap(20, 2));
    expect(await store.load({ maxIndex: 19 })).toEqual(snap(10, 1));
    expect(await store.load({ maxIndex: 9 })).toBeUndefined();
  });

  it("never loads a .tmp file, and removes leftovers at the next save", async () => {
    const dir = await tempDir("shoal-snap-");
    const store = new SnapshotStore(dir);
    await store.save(snap(10, 1));
    // A crash between writing the temporary file and renaming it: a complete, valid, newer file.
    const [head, data] = encodeSnapshot(snap(30, 2));
    await writeFile(join(dir, snapshotFileName(2, 30) + ".tmp"), Buffer.concat([head, data]));
    expect(await store.load()).toEqual(snap(10, 1));
    await store.save(snap(20, 1));
    expect((await readdir(dir)).sort()).toEqual([snapshotFileName(1, 10), snapshotFileName(1, 20)]);
  });

  it("skips a corrupt newest snapshot, with a warning naming the file", async () => {
    const dir = await tempDir("shoal-snap-");
    const logger = captureLogger();
    const store = new SnapshotStore(dir, { logger });
    await store.save(snap(10, 1));
    await store.save(snap(20, 1));
    const newest = join(dir, snapshotFileName(1, 20));
    const bytes = await readFile(newest);
    bytes[bytes.length - 100]! ^= 0x01;
    await writeFile(newest, bytes);
    expect(await store.load()).toEqual(snap(10, 1));
    expect(logger.warnings()).toEqual([
      {
        level: "warn",
        msg: "skipping a corrupt snapshot file",
        fields: { component: "snapshot", file: newest, reason: "checksum mismatch" },
      },
    ]);
  });

  it("treats a file whose name disagrees with its content as corrupt", async () => {
    const dir = await tempDir("shoal-snap-");
    const store = new SnapshotStore(dir);
    await store.save(snap(10, 1));
    const [head, data] = encodeSnapshot(snap(15, 1));
    await writeFile(join(dir, snapshotFileName(1, 40)), Buffer.concat([head, data]));
    expect(await store.load()).toEqual(snap(10, 1));
  });

  it("keeps the newest N", async () => {
    const dir = await tempDir("shoal-snap-");
    const store = new SnapshotStore(dir, { retain: 2 });
    for (const i of [5, 9, 3, 12]) await store.save(snap(i, 1, 10)); // 3 is older than what is kept
    expect((await store.list()).map((f) => f.index)).toEqual([12, 9]);
    const three = new SnapshotStore(dir);
    await three.save(snap(14, 2, 10));
    await three.save(snap(15, 2, 10));
    expect((await three.list()).map((f) => f.index)).toEqual([15, 14, 12]);
    expect(() => new SnapshotStore(dir, { retain: 0 })).toThrow(/at least 1/);
  });

  it("serializes concurrent saves", async () => {
    const dir = await tempDir("shoal-snap-");
    const store = new SnapshotStore(dir, { retain: 5 });
    await Promise.all([1, 2, 3, 4, 5, 6].map((i) => store.save(snap(i * 10, 1, 50_000))));
    expect((await store.list()).map((f) => f.index)).toEqual([60, 50, 40, 30, 20]);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});
