// Reading a WAL directory back at open. Segments are read in sequence order and their records applied to
// a log in memory: an entries record at index i drops every entry from i on before appending (a new
// leader overwrote an uncommitted tail), the last hardState record wins, and snapshot markers say where
// the state machine can start.
//
// Segments are preallocated, so the records of a segment end where zeros begin (or at the end of the
// file). Anything else that stops the scan (a record cut short, a CRC mismatch, bytes after the zeros) is,
// in the last segment, a torn write: the segment is truncated just before the broken record (and extended
// again with zeros by the writer). The same in a sealed segment is data loss.
import { open, readFile, truncate, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { KeyRing } from "../crypto/data-key.js";
import { CLEAR } from "../crypto/data-key.js";
import { UnknownKeyError } from "../crypto/seal.js";
import type { RaftLogger } from "../logger.js";
import type { Entry, HardState } from "../types.js";
import { emptyHardState } from "../types.js";
import type { SnapshotMarker, WalRecord } from "./codec.js";
import { PayloadError, decodeRecord, openSealed } from "./codec.js";
import { DataLossError, DiskKeyError } from "./errors.js";
import type { RawRecord } from "./frame.js";
import { RecordType, scanFrames } from "./frame.js";
import type { SegmentName } from "./segment.js";
import { fsyncDir } from "./segment.js";

export interface SegmentState extends SegmentName {
  /** Highest entry index written to this segment; undefined when it holds no entries. */
  maxIndex: number | undefined;
  /** The data keys its records are sealed with (CLEAR for records in clear; the header is not counted). */
  keyIds: Set<string>;
}

export interface ScannedLog {
  hardState: HardState;
  /** The newest snapshot marker (0/0 when none). */
  latest: SnapshotMarker;
  /** Every entry the log still holds, contiguous, after overwrites. */
  entries: Entry[];
  /** Segments still on disk, in order; the last one is open for appending. */
  segments: SegmentState[];
  /** Valid length of the last segment (after a torn tail was cut). */
  tailBytes: number;
}

/** The log as entries with consecutive indexes; appending at or before its end replaces what follows. */
class LogBuilder {
  entries: Entry[] = [];

  lastIndex(): number | undefined {
    const last = this.entries[this.entries.length - 1];
    return last?.index;
  }

  termAt(index: number): number | undefined {
    const first = this.entries[0];
    if (first === undefined) return undefined;
    return this.entries[index - first.index]?.term;
  }

  /** Returns false when the batch leaves a gap after the current log. */
  append(batch: readonly Entry[]): boolean {
    const head = batch[0];
    const first = this.entries[0];
    if (head === undefined) return true;
    if (first === undefined || head.index <= first.index) {
      this.entries = batch.slice();
      return true;
    }
    const last = this.lastIndex() as number;
    if (head.index > last + 1) return false;
    this.entries.length = head.index - first.index;
    for (const e of batch) this.entries.push(e);
    return true;
  }

  /** A new snapshot at m: keep the entries only if they agree with it. A snapshot received from a leader
   *  replaces a log that ends before it or holds another term at its index; one older than the first
   *  entry held cannot conflict (the entries before were released because a snapshot covered them). */
  snapshot(m: SnapshotMarker): void {
    const first = this.entries[0];
    if (first === undefined || m.index < first.index) return;
    const term = this.termAt(m.index);
    if (term !== m.term) this.entries = [];
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

function isZeroFrom(data: Buffer, from: number): boolean {
  for (let at = from; at < data.byteLength; at += ZEROS.byteLength) {
    const end = Math.min(data.byteLength, at + ZEROS.byteLength);
    if (!data.subarray(at, end).equals(ZEROS.subarray(0, end - at))) return false;
  }
  return true;
}

export async function scanSegments(
  dir: string,
  names: readonly SegmentName[],
  logger: RaftLogger,
  keys?: KeyRing,
): Promise<ScannedLog> {
  const log = new LogBuilder();
  let hardState = emptyHardState();
  let latest: SnapshotMarker = { index: 0, term: 0 };
  const segments: SegmentState[] = [];
  let tailBytes = 0;

  for (let i = 0; i < names.length; i++) {
    const seg = names[i] as SegmentName;
    const file = join(dir, seg.name);
    const isLast = i === names.length - 1;
    const prev = segments[segments.length - 1];
    if (prev !== undefined && seg.seq !== prev.seq + 1) {
      throw new DataLossError(`segment ${prev.seq + 1} is missing before ${seg.name}`, { file });
    }
    const data = await readFile(file);
    const scan = scanFrames(data);
    let validBytes = data.byteLength;
    if (scan.broken !== undefined && isZeroFrom(data, scan.broken.offset)) {
      validBytes = scan.broken.offset; // the preallocated, never written part
    } else if (scan.broken !== undefined) {
      if (!isLast)
        throw new DataLossError(`corrupt sealed segment: ${scan.broken.reason}`, { file, offset: scan.broken.offset });
      logger.warn("cutting a torn write at the end of the write-ahead log", {
        component: "wal",
        file,
        offset: scan.broken.offset,
        reason: scan.broken.reason,
        bytesDropped: data.byteLength - scan.broken.offset,
      });
      validBytes = scan.broken.offset;
      await truncate(file, validBytes);
      const fh = await open(file, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (scan.records.length === 0) {
      if (!isLast) throw new DataLossError("sealed segment has no header", { file, offset: 0 });
      // Crash while the segment was being created: nothing in it was ever acknowledged.
      logger.warn("removing a segment whose header was never written", { component: "wal", file });
      await unlink(file);
      await fsyncDir(dir);
      break;
    }
    const state: SegmentState = { ...seg, maxIndex: undefined, keyIds: new Set() };
    const undecodable = (err: unknown, offset: number): never => {
      if (err instanceof UnknownKeyError) throw new DiskKeyError(file, err.keyId, keys?.ids() ?? []);
      if (err instanceof PayloadError) {
        throw new DataLossError(`undecodable record: ${err.message}`, { file, offset }, { cause: err });
      }
      throw err;
    };
    // A sealed record stands for the clear records it holds (their offsets: the sealed record's).
    const clearRecords: RawRecord[] = [];
    for (const raw of scan.records) {
      if (raw.type !== RecordType.sealed) {
        if (raw.type !== RecordType.segmentHeader) state.keyIds.add(CLEAR);
        clearRecords.push(raw);
        continue;
      }
      try {
        const opened = openSealed(raw.payload, keys);
        for (const r of opened.records) clearRecords.push({ ...r, offset: raw.offset, end: raw.end });
        state.keyIds.add(opened.keyId);
      } catch (err: unknown) {
        undecodable(err, raw.offset);
      }
    }
    clearRecords.forEach((raw, k) => {
      let rec: WalRecord;
      try {
        rec = decodeRecord(raw.type, raw.payload);
      } catch (err: unknown) {
        return undecodable(err, raw.offset);
      }
      if ((k === 0) !== (rec.type === "segmentHeader")) {
        throw new DataLossError(
          k === 0 ? "segment does not start with a header" : "segment header in the middle of a segment",
          {
            file,
            offset: raw.offset,
          },
        );
      }
      switch (rec.type) {
        case "segmentHeader":
          if (rec.header.seq !== seg.seq || rec.header.firstIndex !== seg.firstIndex) {
            throw new DataLossError(
              `segment header says seq ${rec.header.seq} first index ${rec.header.firstIndex}, unlike its name`,
              { file, offset: raw.offset },
            );
          }
          break;
        case "entries": {
          if (!log.append(rec.entries)) {
            throw new DataLossError(
              `entries from ${rec.entries[0]?.index} leave a gap after index ${log.lastIndex()} with no snapshot to cover it`,
              { file, offset: raw.offset },
            );
          }
          const last = rec.entries[rec.entries.length - 1];
          if (last !== undefined) state.maxIndex = Math.max(state.maxIndex ?? 0, last.index);
          break;
        }
        case "hardState":
          hardState = rec.hardState;
          break;
        case "snapshot":
          // Each segment repeats the newest marker after its header: a copy changes nothing.
          if (rec.marker.index === latest.index && rec.marker.term === latest.term) break;
          if (rec.marker.index < latest.index) {
            throw new DataLossError(`snapshot marker ${rec.marker.index} after marker ${latest.index}`, {
              file,
              offset: raw.offset,
            });
          }
          latest = rec.marker;
          log.snapshot(rec.marker);
          break;
      }
    });
    segments.push(state);
    tailBytes = validBytes; // the last segment kept is the one appended to
  }
  return { hardState, latest, entries: log.entries, segments, tailBytes };
}
