import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLEAR } from "../../src/crypto/data-key.js";
import { silentLogger } from "../../src/logger.js";
import type { SegmentState } from "../../src/wal/replay.js";
import { scanSegments } from "../../src/wal/replay.js";
import { listSegments } from "../../src/wal/segment.js";
import { SegmentSet } from "../../src/wal/segment-set.js";
import { SegmentWriter } from "../../src/wal/segment-writer.js";
import { tempDir } from "./helpers.js";

const SEGMENT_BYTES = 4096;

/** A directory with its first segment, empty, and the set over it. */
async function fresh(): Promise<{ dir: string; set: SegmentSet; writer: SegmentWriter }> {
  const dir = await tempDir();
  const writer = await SegmentWriter.create(dir, 0, 1, [], SEGMENT_BYTES);
  const first: SegmentState = { seq: 0, firstIndex: 1, name: writer.name, maxIndex: undefined, keyIds: new Set() };
  const set = new SegmentSet({ dir, segmentBytes: SEGMENT_BYTES, keys: undefined, logger: silentLogger }, [first]);
  return { dir, set, writer };
}

describe("SegmentSet", () => {
  it("is full only when a write would pass the segment size and the segment holds more than its preamble", async () => {
    const { set, writer } = await fresh();
    expect(set.isFull(writer, SEGMENT_BYTES)).toBe(false); // nothing of its own yet: never rolled empty
    await writer.append(Buffer.alloc(100, 1), false);
    expect(set.isFull(writer, SEGMENT_BYTES - writer.size)).toBe(false);
    expect(set.isFull(writer, SEGMENT_BYTES - writer.size + 1)).toBe(true);
    await writer.close();
  });

  it("rolls to a new segment that starts with the hardState and newest snapshot marker", async () => {
    const { dir, set, writer } = await fresh();
    set.appended(CLEAR, 3);
    const next = await set.roll(writer, 4, { term: 2, vote: 1, commit: 3 }, { index: 2, term: 1 });
    expect(set.names()).toEqual(["0000000000000000-0000000000000001.wal", "0000000000000001-0000000000000004.wal"]);
    expect(next.name).toBe(set.names()[1]);
    await next.close();
    // The sealed segment has nothing but its header: replay still finds the state, in the new one.
    const scanned = await scanSegments(dir, await listSegments(dir), silentLogger, undefined);
    expect(scanned.hardState).toEqual({ term: 2, vote: 1, commit: 3 });
    expect(scanned.latest).toEqual({ index: 2, term: 1 });
    expect(set.keyIdsInUse()).toEqual(new Set([CLEAR]));
  });

  it("releases whole segments at or below an index, oldest first, never the one being written", async () => {
    const { dir, set, writer } = await fresh();
    set.appended(CLEAR, 10);
    let w = await set.roll(writer, 11, { term: 1, vote: 1, commit: 10 }, { index: 0, term: 0 });
    set.appended(CLEAR, 20);
    w = await set.roll(w, 21, { term: 1, vote: 1, commit: 20 }, { index: 0, term: 0 });
    const [first, second, third] = set.names();

    expect(await set.releaseTo(15)).toEqual([first]);
    expect(await set.releaseTo(100)).toEqual([second]); // the last one stays, whatever it holds
    expect(set.names()).toEqual([third]);
    expect((await readdir(dir)).filter((n) => n.endsWith(".wal"))).toEqual([third]);
    expect(await set.releaseTo(100)).toEqual([]);
    await w.close();
  });
});
