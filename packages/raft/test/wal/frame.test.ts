import { describe, expect, it } from "vitest";
import { encodeRecords } from "../../src/wal/codec.js";
import { FRAME_HEADER_BYTES, RecordType, scanFrames } from "../../src/wal/frame.js";

const three = encodeRecords([
  { type: "hardState", hardState: { term: 1, vote: 2, commit: 3 } },
  { type: "snapshot", marker: { index: 5, term: 1 } },
  { type: "hardState", hardState: { term: 2, vote: 2, commit: 9 } },
]);
const ends = [FRAME_HEADER_BYTES + 25, 2 * FRAME_HEADER_BYTES + 25 + 17, three.byteLength];

describe("scanFrames", () => {
  it("splits back-to-back frames and reports their bounds", () => {
    const scan = scanFrames(three);
    expect(scan.broken).toBeUndefined();
    expect(scan.records.map((r) => r.type)).toEqual([RecordType.hardState, RecordType.snapshot, RecordType.hardState]);
    expect(scan.records.map((r) => r.end)).toEqual(ends);
    expect(scan.records[1]?.offset).toBe(ends[0]);
  });

  it("stops at a frame that runs past the end, at every cut", () => {
    for (let cut = 0; cut < three.byteLength; cut++) {
      const scan = scanFrames(three.subarray(0, cut));
      const whole = ends.filter((e) => e <= cut).length;
      expect(scan.records).toHaveLength(whole);
      const brokenAt = whole === 0 ? 0 : (ends[whole - 1] as number);
      if (cut === brokenAt) expect(scan.broken).toBeUndefined();
      else expect(scan.broken?.offset).toBe(brokenAt);
    }
  });

  it("stops at a flipped bit anywhere in a frame", () => {
    for (let at = 0; at < three.byteLength; at++) {
      const copy = Buffer.from(three);
      copy[at] = (copy[at] as number) ^ 0x10;
      const scan = scanFrames(copy);
      const frame = ends.findIndex((e) => at < e);
      expect(scan.records).toHaveLength(frame);
      expect(scan.broken?.offset).toBe(frame === 0 ? 0 : ends[frame - 1]);
    }
  });

  it("treats zeros (a preallocated or unwritten tail) as broken, not as records", () => {
    const scan = scanFrames(Buffer.concat([three, Buffer.alloc(64)]));
    expect(scan.records).toHaveLength(3);
    expect(scan.broken).toEqual({ offset: three.byteLength, reason: "invalid record length 0" });
  });
});
