// openRaftDisk with data keys: a key rotation (new writes under the new key, old data readable until the
// next snapshot replaces it), and a clear data dir migrated when encryption is turned on.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";
import type { Entry, MemoryStorage, Snapshot } from "../../src/index.js";
import { DiskKeyError, openRaftDisk } from "../../src/wal/index.js";
import { tempDir } from "./helpers.js";

const MARK = "secret-service-name";

function marked(first: number, count: number, term: number, tag = MARK): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    index: first + i,
    term,
    type: "normal" as const,
    data: new TextEncoder().encode(`${tag}-${first + i}`),
  }));
}

function snapAt(index: number, term: number): Snapshot {
  return {
    data: new TextEncoder().encode(`${MARK}-state@${index}`),
    metadata: { index, term, confState: { voters: [1] } },
  };
}

function texts(s: MemoryStorage): string[] {
  return s
    .entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER)
    .map((e) => Buffer.from(e.data).toString());
}

async function filesContaining(dir: string, text: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ["wal", "snap"]) {
    for (const n of await readdir(join(dir, sub))) {
      if ((await readFile(join(dir, sub, n))).includes(text)) out.push(`${sub}/${n}`);
    }
  }
  return out;
}

describe("openRaftDisk with data keys", () => {
  it("rotates the data key: old data readable with the previous key until the next snapshot", async () => {
    const dir = await tempDir();
    const a = DataKey.generate();
    const b = DataKey.generate();
    const released: string[][] = [];
    const disk = await openRaftDisk(dir, {
      segmentBytes: 4096,
      keys: new KeyRing(a),
      onKeysReleased: (ids) => released.push([...ids]),
    });
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 40 }, entries: marked(1, 40, 1) });
    await disk.saveSnapshot(snapAt(20, 1));
    await disk.saveSnapshot(snapAt(30, 1));
    expect(await disk.keysInUse()).toEqual(new Set([a.id]));

    await disk.rotateKey(b);
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 50 }, entries: marked(41, 10, 1, "after") });
    expect(await disk.keysInUse()).toEqual(new Set([a.id, b.id]));
    await disk.close();

    // Between the rotation and the next snapshot both keys are needed.
    await expect(openRaftDisk(dir, { keys: new KeyRing(b) })).rejects.toBeInstanceOf(DiskKeyError);
    const both = await openRaftDisk(dir, { segmentBytes: 4096, keys: new KeyRing(b, [a]) });
    expect(texts(both.storage)).toEqual(
      [...marked(31, 10, 1), ...marked(41, 10, 1, "after")].map((e) => Buffer.from(e.data).toString()),
    );
    await both.close();

    const again = await openRaftDisk(dir, {
      segmentBytes: 4096,
      keys: new KeyRing(b, [a]),
      onKeysReleased: (ids) => released.push([...ids]),
    });
    await again.saveSnapshot(snapAt(50, 1));
    expect(await again.keysInUse()).toEqual(new Set([b.id]));
    expect(released).toEqual([[b.id]]);
    await again.close();

    const onlyB = await openRaftDisk(dir, { keys: new KeyRing(b) });
    expect(onlyB.storage.snapshot().metadata.index).toBe(50);
    expect(Buffer.from(onlyB.storage.snapshot().data).toString()).toBe(`${MARK}-state@50`);
    await onlyB.close();
    await expect(openRaftDisk(dir, { keys: new KeyRing(a) })).rejects.toMatchObject({ code: "ERR_DISK_KEY" });
  });

  it("migrates a clear data dir: new segments and the next snapshot sealed, the clear files then released", async () => {
    const dir = await tempDir();
    const clear = await openRaftDisk(dir, { segmentBytes: 4096 });
    await clear.persist({ hardState: { term: 1, vote: 1, commit: 20 }, entries: marked(1, 20, 1, "old") });
    await clear.saveSnapshot(snapAt(10, 1));
    await clear.close();
    expect((await filesContaining(dir, "old-")).length).toBeGreaterThan(0);

    const key = DataKey.generate();
    const disk = await openRaftDisk(dir, { segmentBytes: 4096, keys: new KeyRing(key) });
    expect(texts(disk.storage)).toEqual(marked(11, 10, 1, "old").map((e) => Buffer.from(e.data).toString()));
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 30 }, entries: marked(21, 10, 1) });
    expect(await filesContaining(dir, `${MARK}-2`)).toEqual([]);
    expect(await disk.keysInUse()).toEqual(new Set(["clear", key.id]));
    await disk.saveSnapshot(snapAt(30, 1));
    expect(await disk.keysInUse()).toEqual(new Set([key.id]));
    expect(await filesContaining(dir, "old-")).toEqual([]);
    expect(await filesContaining(dir, MARK)).toEqual([]);
    await disk.close();

    const again = await openRaftDisk(dir, { keys: new KeyRing(key) });
    expect(again.storage.snapshot().metadata.index).toBe(30);
    await again.close();
  });
});
