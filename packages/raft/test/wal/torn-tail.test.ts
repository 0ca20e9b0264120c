// What replay does with damaged files: a torn or corrupt tail in the last segment is cut (the records
// before it survive, the broken one and everything after are gone); damage in a sealed segment is fatal.
// Segments are preallocated: zeros after the last record are the clean end of a segment.
import { cp, readFile, readdir, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Entry, HardState } from "../../src/index.js";
import { decodeRecord } from "../../src/wal/codec.js";
import { scanFrames } from "../../src/wal/frame.js";
import { DataLossError, Wal } from "../../src/wal/index.js";
import { Prng } from "../support/prng.js";
import { captureLogger, makeEntries, tempDir } from "./helpers.js";

const SEGMENT = 64 * 1024;

/** What replay should return from the given records: the reference model of overwrite semantics. */
function model(records: ReturnType<typeof decodeRecord>[]): { entries: Entry[]; hardState: HardState } {
  let entries: Entry[] = [];
  let hardState: HardState = { term: 0, vote: 0, commit: 0 };
  for (const r of records) {
    if (r.type === "entries") entries = [...entries.filter((e) => e.index < r.entries[0]!.index), ...r.entries];
    if (r.type === "hardState") hardState = r.hardState;
  }
  return { entries, hardState };
}

/** Offset of the first byte after the last record, and whether every byte from there on is zero. */
function recordsEnd(bytes: Buffer): { end: number; zerosAfter: boolean } {
  const frames = scanFrames(bytes).records;
  const end = frames[frames.length - 1]?.end ?? 0;
  return { end, zerosAfter: bytes.subarray(end).every((b) => b === 0) };
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
}

/** A log written in `saves` calls, some with a hard state, one overwriting a tail. */
async function writeLog(dir: string, saves: number, segmentBytes = SEGMENT): Promise<void> {
  const { wal } = await Wal.open(dir, { segmentBytes });
  let next = 1;
  for (let i = 0; i < saves; i++) {
    if (i === Math.floor(saves / 2)) next -= 3; // a new leader overwrites the last 3 entries
    const count = 1 + (i % 4);
    await wal.save(
      i % 3 === 0 ? { term: 1 + i, vote: 2, commit: next - 1 } : undefined,
      makeEntries(next, count, 1 + i, 10 + i * 13),
    );
    next += count;
  }
  await wal.close();
}

describe("torn tail", () => {
  it("cuts the last segment at any offset back to the last whole record", async () => {
    const base = await tempDir();
    const original = join(base, "original");
    await writeLog(original, 30);
    const [name] = await segmentFiles(original);
    const bytes = await readFile(join(original, name!));
    expect(bytes.length).toBe(SEGMENT); // preallocated
    const frames = scanFrames(bytes).records;
    const dataEnd = recordsEnd(bytes).end;
    const rng = new Prng(7);
    const cuts = new Set<number>([0, dataEnd - 1, ...frames.map((f) => f.end), ...frames.map((f) => f.offset + 3)]);
    while (cuts.size < 120) cuts.add(rng.int(dataEnd));
    let k = 0;
    for (const cut of cuts) {
      const dir = join(base, `cut-${k++}`);
      await cp(original, dir, { recursive: true });
      await truncate(join(dir, name!), cut);
      const logger = captureLogger();
      const r = await Wal.open(dir, { logger, segmentBytes: SEGMENT });
      const whole = frames.filter((f) => f.end <= cut);
      const expected = model(whole.slice(1).map((f) => decodeRecord(f.type, f.payload)));
      if (whole.length === 0) {
        // Even the segment header was torn: the file is made anew.
        expect(r.entries).toEqual([]);
      } else {
        expect(r.entries).toEqual(expected.entries);
        expect(r.hardState).toEqual(expected.hardState);
        const kept = whole[whole.length - 1]!.end;
        const after = await readFile(join(dir, name!));
        expect(after.length).toBe(SEGMENT); // preallocated again
        expect(recordsEnd(after)).toEqual({ end: kept, zerosAfter: true });
        if (cut > kept) {
          expect(logger.warnings()).toHaveLength(1);
          expect(logger.warnings()[0]?.fields).toMatchObject({ file: join(dir, name!), offset: kept });
        } else {
          expect(logger.warnings()).toHaveLength(0);
        }
      }
      // The log goes on after the cut: a new entry lands right after what survived.
      const next = (r.entries[r.entries.length - 1]?.index ?? 0) + 1;
      await r.wal.save(undefined, makeEntries(next, 1, 99));
      await r.wal.close();
      const again = await Wal.open(dir, { segmentBytes: SEGMENT });
      expect(again.entries).toEqual([...r.entries, ...makeEntries(next, 1, 99)]);
      await again.wal.close();
    }
  });

  it("takes zeros after the last record as the clean end, and bytes after the zeros as a torn write", async () => {
    const dir = await tempDir();
    await writeLog(dir, 12);
    const [name] = await segmentFiles(dir);
    const file = join(dir, name!);
    const bytes = await readFile(file);
    const { end } = recordsEnd(bytes);
    const clean = captureLogger();
    const r = await Wal.open(dir, { logger: clean, segmentBytes: SEGMENT });
    await r.wal.close();
    expect(clean.warnings()).toEqual([]);
    // A write whose first page was lost and a later one was not: zeros, then data.
    bytes[end + 5000] = 0x42;
    await writeFile(file, bytes);
    const torn = captureLogger();
    const again = await Wal.open(dir, { logger: torn, segmentBytes: SEGMENT });
    expect(again.entries).toEqual(r.entries);
    expect(torn.warnings()[0]?.fields).toMatchObject({ file, offset: end });
    expect(recordsEnd(await readFile(file))).toEqual({ end, zerosAfter: true });
    await again.wal.close();
  });

  it("cuts a record whose bytes were flipped when it is the last one", async () => {
    const dir = await tempDir();
    await writeLog(dir, 12);
    const [name] = await segmentFiles(dir);
    const file = join(dir, name!);
    const bytes = await readFile(file);
    const frames = scanFrames(bytes).records;
    const last = frames[frames.length - 1]!;
    bytes[last.offset + 9 + Math.floor((last.end - last.offset - 9) / 2)]! ^= 0xff;
    await writeFile(file, bytes);
    const logger = captureLogger();
    const r = await Wal.open(dir, { logger, segmentBytes: SEGMENT });
    expect(r.entries).toEqual(model(frames.slice(1, -1).map((f) => decodeRecord(f.type, f.payload))).entries);
    expect(logger.warnings()[0]).toMatchObject({
      msg: "cutting a torn write at the end of the write-ahead log",
      fields: { file, offset: last.offset, reason: "record checksum mismatch" },
    });
    await r.wal.close();
  });

  it("also cuts from a damaged record in the middle of the last segment (what follows cannot be trusted)", async () => {
    const dir = await tempDir();
    await writeLog(dir, 12);
    const [name] = await segmentFiles(dir);
    const file = join(dir, name!);
    const bytes = await readFile(file);
    const frames = scanFrames(bytes).records;
    const victim = frames[5]!;
    bytes[victim.offset + 4]! ^= 0x01; // its CRC field
    await writeFile(file, bytes);
    const r = await Wal.open(dir, { segmentBytes: SEGMENT });
    expect(r.entries).toEqual(model(frames.slice(1, 5).map((f) => decodeRecord(f.type, f.payload))).entries);
    expect(recordsEnd(await readFile(file))).toEqual({ end: victim.offset, zerosAfter: true });
    await r.wal.close();
  });

  it("fails with DataLoss, naming file and offset, on damage in a sealed segment", async () => {
    const dir = await tempDir();
    await writeLog(dir, 40, 2048);
    const names = await segmentFiles(dir);
    expect(names.length).toBeGreaterThan(2);
    expect(recordsEnd(await readFile(join(dir, names[0]!))).zerosAfter).toBe(true); // a sealed segment's tail
    const file = join(dir, names[1]!);
    const bytes = await readFile(file);
    const victim = scanFrames(bytes).records[2]!;
    bytes[victim.end - 1]! ^= 0x80;
    await writeFile(file, bytes);
    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataLossError);
    expect(err).toMatchObject({ code: "ERR_DISK_DATA_LOSS", file, offset: victim.offset });
    expect((err as Error).message).toContain(names[1]);
    // Nothing was cut, and the lock was released.
    expect((await readFile(file)).equals(bytes)).toBe(true);
    await expect(Wal.open(dir)).rejects.toBeInstanceOf(DataLossError);
  });

  it("fails with DataLoss when a sealed segment is cut short, has bytes after its zeros, or is missing", async () => {
    const dir = await tempDir();
    await writeLog(dir, 40, 2048);
    const names = await segmentFiles(dir);
    const second = join(dir, names[1]!);
    const saved = await readFile(second);
    const { end } = recordsEnd(saved);
    await truncate(second, end - 5);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: "ERR_DISK_DATA_LOSS", file: second });
    const junk = Buffer.from(saved);
    junk[junk.length - 1] = 1;
    await writeFile(second, junk);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: "ERR_DISK_DATA_LOSS", file: second, offset: end });
    await writeFile(second, saved);
    await unlink(join(dir, names[2]!));
    await expect(Wal.open(dir)).rejects.toThrow(/segment 2 is missing/);
  });

  it("removes a last segment whose header was torn, and appends to the one before", async () => {
    const dir = await tempDir();
    await writeLog(dir, 40, 2048);
    const names = await segmentFiles(dir);
    const lastFile = join(dir, names[names.length - 1]!);
    const bytes = await readFile(lastFile);
    // Everything up to the last segment, as the model sees it.
    const all: ReturnType<typeof decodeRecord>[] = [];
    for (const n of names.slice(0, -1)) {
      for (const f of scanFrames(await readFile(join(dir, n))).records.slice(1)) {
        all.push(decodeRecord(f.type, f.payload));
      }
    }
    await writeFile(lastFile, bytes.subarray(0, 10));
    const logger = captureLogger();
    const r = await Wal.open(dir, { logger, segmentBytes: 2048 });
    expect(r.entries).toEqual(model(all).entries);
    expect(await segmentFiles(dir)).toEqual(names.slice(0, -1));
    expect(logger.warnings().map((w) => w.msg)).toContain("removing a segment whose header was never written");
    const next = r.entries[r.entries.length - 1]!.index + 1;
    for (let i = 0; i < 10; i++) await r.wal.save(undefined, makeEntries(next + i * 4, 4, 50, 200));
    await r.wal.close();
    expect((await segmentFiles(dir)).length).toBeGreaterThan(names.length - 1);
    const again = await Wal.open(dir);
    expect(again.entries).toEqual([...r.entries, ...makeEntries(next, 40, 50, 200)]);
    await again.wal.close();
  });
});
