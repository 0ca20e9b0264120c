// The WAL sealed with data keys: round trip, nothing in clear on disk, the wrong key told apart from
// corruption, tampering detected, clear logs read after encryption is turned on.
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataKey, KeyRing } from "../../src/crypto/data-key.js";
import type { Entry } from "../../src/index.js";
import { scanFrames } from "../../src/wal/frame.js";
import { DataLossError, DiskKeyError, Wal } from "../../src/wal/index.js";
import { tempDir } from "./helpers.js";

const MARK = "secret-service-name";
const SEG = 8192;

function marked(first: number, count: number, term: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({
    index: first + i,
    term,
    type: "normal" as const,
    data: new TextEncoder().encode(`${MARK}-${first + i}`),
  }));
}

async function segmentFiles(dir: string): Promise<Buffer[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
  return Promise.all(names.map((n) => readFile(join(dir, n))));
}

async function openFails(dir: string, keys: KeyRing | undefined): Promise<unknown> {
  try {
    const r = await Wal.open(dir, keys === undefined ? { segmentBytes: SEG } : { keys, segmentBytes: SEG });
    await r.wal.close();
  } catch (err: unknown) {
    return err;
  }
  throw new Error("open succeeded");
}

describe("WAL encryption", () => {
  it("round-trips sealed records and leaves nothing of them in clear", async () => {
    const dir = await tempDir();
    const key = DataKey.generate();
    const { wal } = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: 4096 });
    for (let i = 0; i < 40; i++) await wal.save({ term: 2, vote: 1, commit: i * 3 }, marked(i * 3 + 1, 3, 2));
    await wal.saveSnapshot({ index: 30, term: 2 });
    expect(wal.segmentNames().length).toBeGreaterThan(1);
    expect(wal.keyIdsInUse()).toEqual(new Set([key.id]));
    await wal.close();

    for (const f of await segmentFiles(dir)) expect(f.includes(MARK)).toBe(false);
    const r = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    expect(r.hardState).toEqual({ term: 2, vote: 1, commit: 117 });
    expect(r.snapshot).toEqual({ index: 30, term: 2 });
    expect(r.entries).toEqual(marked(31, 90, 2));
    await r.wal.close();
  });

  it("a wrong key, or none, is a DiskKeyError naming the key needed, not data loss; nothing is cut", async () => {
    const dir = await tempDir();
    const key = DataKey.generate();
    const { wal } = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    await wal.save({ term: 1, vote: 1, commit: 1 }, marked(1, 5, 1));
    await wal.close();
    const before = await segmentFiles(dir);

    const other = DataKey.generate();
    const wrong = await openFails(dir, new KeyRing(other));
    expect(wrong).toBeInstanceOf(DiskKeyError);
    expect(wrong).toMatchObject({ code: "ERR_DISK_KEY", keyId: key.id, knownKeyIds: [other.id] });
    expect((wrong as Error).message).toMatch(/wrong key/);
    const none = await openFails(dir, undefined);
    expect(none).toMatchObject({ code: "ERR_DISK_KEY", keyId: key.id });
    expect((none as Error).message).toMatch(/no data key was given/);
    const after = await segmentFiles(dir);
    expect(after.length).toBe(before.length);
    after.forEach((f, i) => expect(f.equals(before[i]!)).toBe(true));

    const r = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    expect(r.entries).toHaveLength(5);
    await r.wal.close();
  });

  it("a sealed record changed with a valid CRC fails authentication (data loss); a torn one is cut", async () => {
    const dir = await tempDir();
    const key = DataKey.generate();
    const { wal } = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    await wal.save({ term: 1, vote: 1, commit: 1 }, marked(1, 5, 1));
    await wal.save({ term: 1, vote: 1, commit: 6 }, marked(6, 5, 1));
    await wal.close();
    const [name] = (await readdir(dir)).filter((n) => n.endsWith(".wal"));
    const file = join(dir, name!);
    const data = await readFile(file);
    const records = scanFrames(data.subarray(0, data.indexOf(Buffer.alloc(64)))).records;
    const rec = records[2]!; // header, first entries record (+ hardState), ...
    const tampered = Buffer.from(data);
    tampered[rec.offset + 30]! ^= 1;
    tampered.writeUInt32LE(crc32(tampered.subarray(rec.offset + 8, rec.end)), rec.offset + 4);
    await writeFile(file, tampered);
    const err = await openFails(dir, new KeyRing(key));
    expect(err).toBeInstanceOf(DataLossError);
    expect((err as Error).message).toMatch(/fails authentication/);

    // Without fixing the CRC, the last record is a torn write: cut, and the log opens.
    const last = records[records.length - 1]!;
    const torn = Buffer.from(data);
    torn[last.offset + 20]! ^= 1;
    await writeFile(file, torn);
    const r = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    expect(r.entries.length).toBeGreaterThan(0);
    await r.wal.close();
  });

  it("reads a clear log after encryption is turned on, and seals what is written from then on", async () => {
    const dir = await tempDir();
    const clear = await Wal.open(dir, { segmentBytes: SEG });
    await clear.wal.save({ term: 1, vote: 1, commit: 1 }, marked(1, 5, 1));
    await clear.wal.close();

    const key = DataKey.generate();
    const r = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    expect(r.entries).toEqual(marked(1, 5, 1));
    await r.wal.startSegment();
    await r.wal.save({ term: 1, vote: 1, commit: 6 }, marked(6, 5, 1));
    expect(r.wal.keyIdsInUse()).toEqual(new Set(["clear", key.id]));
    await r.wal.close();
    const files = await segmentFiles(dir);
    expect(files).toHaveLength(2);
    expect(files[1]!.includes(`${MARK}-6`)).toBe(false);

    const again = await Wal.open(dir, { keys: new KeyRing(key), segmentBytes: SEG });
    expect(again.entries).toEqual(marked(1, 10, 1));
    await again.wal.close();
  });
});
