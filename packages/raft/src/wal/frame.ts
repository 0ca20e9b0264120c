// The framing of every record in a segment file:
//
//   [length u32 LE][crc32 u32 LE][type u8][payload ...]
//
// `length` counts the bytes after the crc field (type + payload), so a frame takes 8 + length bytes. The
// CRC-32 (zlib's, the IEEE polynomial) covers type + payload. A frame is self-contained: no checksum chains
// across records, so a reader can tell exactly which record is damaged.
import { crc32 } from "node:zlib";

export const FRAME_HEADER_BYTES = 8;
/** No single record may be larger than this (a batch of entries must be split below it). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export const RecordType = {
  segmentHeader: 1,
  entries: 2,
  hardState: 3,
  snapshot: 4,
  /** The other records of one write, encrypted: keyId | nonce | AES-256-GCM(their clear frames) | tag
   *  (see crypto/seal.ts). */
  sealed: 5,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export interface RawRecord {
  type: number;
  /** Type byte excluded. A view into the scanned buffer. */
  payload: Uint8Array;
  /** Offset of the frame's first byte in the file. */
  offset: number;
  /** Offset just past the frame. */
  end: number;
}

/** Why scanning stopped before the end of the buffer. */
export interface ScanBreak {
  offset: number;
  reason: string;
}

export interface ScanResult {
  records: RawRecord[];
  /** Undefined when every byte of the buffer belongs to a valid frame. */
  broken: ScanBreak | undefined;
}

/** Write the frame header for the `length` bytes already at buf[at + 8, at + 8 + length). */
export function sealFrame(buf: Buffer, at: number, length: number): void {
  buf.writeUInt32LE(length, at);
  buf.writeUInt32LE(crc32(buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length)), at + 4);
}

/** Split a segment's bytes into frames, stopping at the first frame that is cut short or fails its CRC. */
export function scanFrames(buf: Uint8Array): ScanResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: RawRecord[] = [];
  let offset = 0;
  while (offset < buf.byteLength) {
    if (buf.byteLength - offset < FRAME_HEADER_BYTES) {
      return { records, broken: { offset, reason: "frame header cut short by the end of the file" } };
    }
    const length = view.getUint32(offset, true);
    const sum = view.getUint32(offset + 4, true);
    if (length === 0 || length > MAX_RECORD_BYTES) {
      return { records, broken: { offset, reason: `invalid record length ${length}` } };
    }
    const end = offset + FRAME_HEADER_BYTES + length;
    if (end > buf.byteLength) {
      return { records, broken: { offset, reason: `record of ${length} bytes runs past the end of the file` } };
    }
    const body = buf.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(body) !== sum) {
      return { records, broken: { offset, reason: "record checksum mismatch" } };
    }
    records.push({ type: body[0] as number, payload: body.subarray(1), offset, end });
    offset = end;
  }
  return { records, broken: undefined };
}
