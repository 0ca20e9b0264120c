import { describe, expect, it } from "vitest";
import type { WalRecord } from "../../src/wal/codec.js";
import { PayloadError, decodeRecord, encodeRecords } from "../../src/wal/codec.js";
import { DiskInvalidArgumentError } from "../../src/wal/errors.js";
import { scanFrames } from "../../src/wal/frame.js";
import { makeEntries } from "./helpers.js";

function roundTrip(records: WalRecord[]): WalRecord[] {
  const scan = scanFrames(encodeRecords(records));
  expect(scan.broken).toBeUndefined();
  return scan.records.map((r) => decodeRecord(r.type, r.payload));
}

describe("WAL record codec", () => {
  it("round-trips every record type", () => {
    const big = Number.MAX_SAFE_INTEGER;
    const records: WalRecord[] = [
      { type: "segmentHeader", header: { seq: 3, firstIndex: 12001 } },
      { type: "entries", entries: makeEntries(2 ** 40, 9, 2 ** 33 + 5, 100) },
      { type: "entries", entries: [{ index: 7, term: 1, type: "normal", data: new Uint8Array(0) }] },
      { type: "hardState", hardState: { term: big, vote: 0, commit: big - 1 } },
      { type: "snapshot", marker: { index: 4294967296, term: 4294967295 } },
    ];
    expect(roundTrip(records)).toEqual(records);
  });

  it("copies entry data out of the file buffer", () => {
    const buf = encodeRecords([{ type: "entries", entries: makeEntries(1, 2, 1) }]);
    const raw = scanFrames(buf).records[0];
    const rec = decodeRecord(raw!.type, raw!.payload);
    if (rec.type !== "entries") throw new Error(rec.type);
    expect(rec.entries[0]?.data.buffer).not.toBe(buf.buffer);
  });

  it("refuses entries that are not contiguous, and integers past 2^53", () => {
    const gap = [...makeEntries(1, 2, 1), ...makeEntries(4, 1, 1)];
    expect(() => encodeRecords([{ type: "entries", entries: gap }])).toThrow(DiskInvalidArgumentError);
    expect(() => encodeRecords([{ type: "hardState", hardState: { term: 2 ** 53, vote: 0, commit: 0 } }])).toThrow(
      DiskInvalidArgumentError,
    );
    expect(() => encodeRecords([{ type: "hardState", hardState: { term: -1, vote: 0, commit: 0 } }])).toThrow(
      DiskInvalidArgumentError,
    );
  });

  it("rejects a payload that does not match its type", () => {
    const raw = scanFrames(encodeRecords([{ type: "entries", entries: makeEntries(1, 3, 1) }])).records[0]!;
    expect(() => decodeRecord(raw.type, raw.payload.subarray(0, raw.payload.length - 1))).toThrow(PayloadError);
    expect(() => decodeRecord(raw.type, Buffer.concat([raw.payload, Buffer.from([0])]))).toThrow(PayloadError);
    expect(() => decodeRecord(99, raw.payload)).toThrow(/unknown record type 99/);
    const header = scanFrames(encodeRecords([{ type: "segmentHeader", header: { seq: 0, firstIndex: 1 } }]))
      .records[0]!;
    const wrongMagic = Buffer.from(header.payload);
    wrongMagic[0] = 0;
    expect(() => decodeRecord(header.type, wrongMagic)).toThrow(/magic/);
  });
});
