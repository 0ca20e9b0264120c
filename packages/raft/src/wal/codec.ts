// The payloads of the WAL's records, in a compact little-endian binary encoding. Integers that Raft keeps as
// numbers (indexes, terms, node ids) are stored as u64 and must be safe integers (< 2^53) when read back.
//
//   segmentHeader  magic u32 ("SHWL") | version u16 | seq u64 | firstIndex u64
//   entries        firstIndex u64 | count u32 | count x (term u64 | type u8 | dataLength u32 | data)
//                  (the entries of one record have consecutive indexes from firstIndex)
//   hardState      term u64 | vote u64 | commit u64
//   snapshot       index u64 | term u64          (a snapshot up to index/term was saved: replay from it)
//
// With a data key, the records of one write but the segment header are written as one `sealed` record
// whose plaintext is their clear frames (crypto/seal.ts): one cipher per write. The frame's CRC covers the sealed bytes, so a
// torn write is still told from a complete record before any decryption; a complete record that fails
// authentication was changed on purpose or by the disk, never torn.
import type { DataKey } from "../crypto/data-key.js";
import { KeyRing } from "../crypto/data-key.js";
import { SEAL_OVERHEAD, SealAuthError, seal, sealedKeyId, unseal } from "../crypto/seal.js";
import type { Entry, EntryType, HardState } from "../types.js";
import { DiskInvalidArgumentError } from "./errors.js";
import type { RawRecord } from "./frame.js";
import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES, RecordType, scanFrames, sealFrame } from "./frame.js";

export const SEGMENT_MAGIC = 0x4c574853; // "SHWL" read as a little-endian u32
export const SEGMENT_VERSION = 1;

export interface SegmentHeader {
  seq: number;
  firstIndex: number;
}

/** Where a snapshot stands in the log: replay starts after `index`. */
export interface SnapshotMarker {
  index: number;
  term: number;
}

export type WalRecord =
  | { type: "segmentHeader"; header: SegmentHeader }
  | { type: "entries"; entries: readonly Entry[] }
  | { type: "hardState"; hardState: HardState }
  | { type: "snapshot"; marker: SnapshotMarker };

/** A record whose frame is intact (its CRC matched) but whose payload does not parse: never a torn write. */
export class PayloadError extends Error {}

const TWO_32 = 0x1_0000_0000;
const ENTRY_FIXED_BYTES = 8 + 1 + 4;

function entryTypeCode(t: EntryType): number {
  return t === "normal" ? 0 : 1;
}

function entryTypeOf(code: number): EntryType {
  if (code === 0) return "normal";
  if (code === 1) return "confChange";
  throw new PayloadError(`unknown entry type ${code}`);
}

function payloadBytes(r: WalRecord): number {
  switch (r.type) {
    case "segmentHeader":
      return 4 + 2 + 8 + 8;
    case "entries": {
      let n = 8 + 4;
      for (const e of r.entries) n += ENTRY_FIXED_BYTES + e.data.byteLength;
      return n;
    }
    case "hardState":
      return 24;
    case "snapshot":
      return 16;
  }
}

function putU64(view: DataView, at: number, v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new DiskInvalidArgumentError(`${what} ${v} is not a non-negative safe integer`);
  view.setUint32(at, v % TWO_32, true);
  view.setUint32(at + 4, Math.floor(v / TWO_32), true);
}

function writePayload(buf: Buffer, view: DataView, at: number, r: WalRecord): void {
  switch (r.type) {
    case "segmentHeader":
      view.setUint32(at, SEGMENT_MAGIC, true);
      view.setUint16(at + 4, SEGMENT_VERSION, true);
      putU64(view, at + 6, r.header.seq, "segment sequence");
      putU64(view, at + 14, r.header.firstIndex, "segment first index");
      return;
    case "entries": {
      const first = r.entries[0];
      putU64(view, at, first === undefined ? 0 : first.index, "entry index");
      view.setUint32(at + 8, r.entries.length, true);
      let p = at + 12;
      let expected = first?.index ?? 0;
      for (const e of r.entries) {
        if (e.index !== expected) {
          throw new DiskInvalidArgumentError(
            `entries are not contiguous: index ${e.index} where ${expected} was expected`,
          );
        }
        expected++;
        putU64(view, p, e.term, "entry term");
        view.setUint8(p + 8, entryTypeCode(e.type));
        view.setUint32(p + 9, e.data.byteLength, true);
        buf.set(e.data, p + ENTRY_FIXED_BYTES);
        p += ENTRY_FIXED_BYTES + e.data.byteLength;
      }
      return;
    }
    case "hardState":
      putU64(view, at, r.hardState.term, "term");
      putU64(view, at + 8, r.hardState.vote, "vote");
      putU64(view, at + 16, r.hardState.commit, "commit");
      return;
    case "snapshot":
      putU64(view, at, r.marker.index, "snapshot index");
      putU64(view, at + 8, r.marker.term, "snapshot term");
      return;
  }
}

const NO_KEYS = new KeyRing();

/** What a sealed WAL record is bound to. */
const WAL_AAD = Buffer.from("shoal wal record v1");

/** Frame the records into one buffer, ready for a single write(); sealed with `key` when given. */
export function encodeRecords(records: readonly WalRecord[], key?: DataKey): Buffer {
  return key === undefined ? encodeClear(records) : encodeSealed(records, key);
}

function encodeSealed(records: readonly WalRecord[], key: DataKey): Buffer {
  const headers = records.filter((r) => r.type === "segmentHeader");
  const rest = records.filter((r) => r.type !== "segmentHeader");
  const parts: Buffer[] = headers.length === 0 ? [] : [encodeClear(headers)];
  if (rest.length > 0) parts.push(sealFrames(encodeClear(rest), key));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** Bytes a sealed record adds to the clear frames it holds. */
export const SEALED_RECORD_OVERHEAD = FRAME_HEADER_BYTES + 1 + SEAL_OVERHEAD;

/** One sealed record holding `frames` (clear frames, none a segment header): one cipher for all. */
export function sealFrames(frames: Uint8Array, key: DataKey): Buffer {
  const buf = seal(key, WAL_AAD, [frames], FRAME_HEADER_BYTES + 1);
  const length = buf.byteLength - FRAME_HEADER_BYTES;
  if (length > MAX_RECORD_BYTES) {
    throw new DiskInvalidArgumentError(
      `a sealed record of ${length} bytes exceeds ${MAX_RECORD_BYTES}; split the batch`,
    );
  }
  buf[FRAME_HEADER_BYTES] = RecordType.sealed;
  sealFrame(buf, 0, length);
  return buf;
}

/** The clear frames a sealed record holds, opened with the ring. Throws UnknownKeyError (no such key: the
 *  wrong key) or PayloadError (it fails authentication, or what it holds is not whole frames). */
export function openSealed(payload: Uint8Array, keys: KeyRing | undefined): { records: RawRecord[]; keyId: string } {
  let clear: Buffer;
  try {
    clear = unseal(keys ?? NO_KEYS, WAL_AAD, payload);
  } catch (err: unknown) {
    if (err instanceof SealAuthError) throw new PayloadError(`sealed record ${err.message}`);
    throw err;
  }
  const inner = scanFrames(clear);
  if (inner.broken !== undefined || inner.records.length === 0) {
    throw new PayloadError(`sealed record holds no whole records: ${inner.broken?.reason ?? "empty"}`);
  }
  return { records: inner.records, keyId: sealedKeyId(payload) as string };
}

function encodeClear(records: readonly WalRecord[]): Buffer {
  let total = 0;
  const sizes: number[] = [];
  for (const r of records) {
    const size = 1 + payloadBytes(r);
    if (size > MAX_RECORD_BYTES) {
      throw new DiskInvalidArgumentError(
        `a ${r.type} record of ${size} bytes exceeds ${MAX_RECORD_BYTES}; split the batch`,
      );
    }
    sizes.push(size);
    total += FRAME_HEADER_BYTES + size;
  }
  const buf = Buffer.allocUnsafe(total);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  records.forEach((r, i) => {
    const size = sizes[i] as number;
    buf[at + FRAME_HEADER_BYTES] = RecordType[r.type];
    writePayload(buf, view, at + FRAME_HEADER_BYTES + 1, r);
    sealFrame(buf, at, size);
    at += FRAME_HEADER_BYTES + size;
  });
  return buf;
}

class Reader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.bytes.byteLength) throw new PayloadError(`payload cut short at byte ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new PayloadError(`integer ${hi}:${lo} is not a safe integer`);
    return v;
  }

  /** A copy, so the entry does not keep the whole segment buffer alive. */
  bytesCopy(n: number): Uint8Array {
    this.need(n);
    const out = new Uint8Array(n); // Buffer.slice would share memory
    out.set(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }

  end(): void {
    if (this.at !== this.bytes.byteLength) {
      throw new PayloadError(`${this.bytes.byteLength - this.at} unexpected bytes after the payload`);
    }
  }
}

/** Parse one record's payload; throws PayloadError if it does not match its type. */
export function decodeRecord(type: number, payload: Uint8Array): WalRecord {
  const r = new Reader(payload);
  let out: WalRecord;
  switch (type) {
    case RecordType.segmentHeader: {
      const magic = r.u32();
      if (magic !== SEGMENT_MAGIC) throw new PayloadError(`bad segment magic 0x${magic.toString(16)}`);
      const version = r.u16();
      if (version !== SEGMENT_VERSION) throw new PayloadError(`unsupported segment version ${version}`);
      out = { type: "segmentHeader", header: { seq: r.u64(), firstIndex: r.u64() } };
      break;
    }
    case RecordType.entries: {
      const first = r.u64();
      const count = r.u32();
      const entries: Entry[] = new Array<Entry>(count);
      for (let i = 0; i < count; i++) {
        const term = r.u64();
        const entryType = entryTypeOf(r.u8());
        const data = r.bytesCopy(r.u32());
        entries[i] = { index: first + i, term, type: entryType, data };
      }
      out = { type: "entries", entries };
      break;
    }
    case RecordType.hardState:
      out = { type: "hardState", hardState: { term: r.u64(), vote: r.u64(), commit: r.u64() } };
      break;
    case RecordType.snapshot:
      out = { type: "snapshot", marker: { index: r.u64(), term: r.u64() } };
      break;
    default:
      throw new PayloadError(`unknown record type ${type}`);
  }
  r.end();
  return out;
}
