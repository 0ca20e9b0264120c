// The snapshot file format, little-endian:
//
//   magic u32 ("SHSN") | crc32 u32 | version u16 | reserved u16 | metaLength u32 | dataLength u64
//   | meta: index u64 | term u64 | voterCount u32 | voterCount x u64
//   | data
//
// The CRC-32 covers everything after the crc field (version, lengths, meta and data), so a torn or flipped
// file is recognised whole. Lengths are checked against the file size before the CRC is computed.
import { crc32 } from "node:zlib";
import type { Snapshot } from "../types.js";

export const SNAPSHOT_MAGIC = 0x4e534853; // "SHSN" read as a little-endian u32
export const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 4 + 2 + 2 + 4 + 4 + 8;
const CRC_FROM = 8;
const TWO_32 = 0x1_0000_0000;

export class SnapshotDecodeError extends Error {}

function putU64(view: DataView, at: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${v} is not a non-negative safe integer`);
  view.setUint32(at, v % TWO_32, true);
  view.setUint32(at + 4, Math.floor(v / TWO_32), true);
}

function getU64(view: DataView, at: number): number {
  const v = view.getUint32(at + 4, true) * TWO_32 + view.getUint32(at, true);
  if (!Number.isSafeInteger(v)) throw new SnapshotDecodeError(`integer at byte ${at} is not a safe integer`);
  return v;
}

/** The file's head (header and metadata) and its data, to be written one after the other. */
export function encodeSnapshot(s: Snapshot): [head: Buffer, data: Uint8Array] {
  const voters = s.metadata.confState.voters;
  const metaLength = 8 + 8 + 4 + 8 * voters.length;
  const head = Buffer.alloc(HEADER_BYTES + metaLength);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint16(8, SNAPSHOT_VERSION, true);
  view.setUint32(12, metaLength, true);
  putU64(view, 16, s.data.byteLength);
  let at = HEADER_BYTES;
  putU64(view, at, s.metadata.index);
  putU64(view, at + 8, s.metadata.term);
  view.setUint32(at + 16, voters.length, true);
  at += 20;
  for (const v of voters) {
    putU64(view, at, v);
    at += 8;
  }
  view.setUint32(4, crc32(s.data, crc32(head.subarray(CRC_FROM))), true);
  return [head, s.data];
}

export function decodeSnapshot(file: Uint8Array): Snapshot {
  if (file.byteLength < HEADER_BYTES) throw new SnapshotDecodeError(`file of ${file.byteLength} bytes is too short`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC) throw new SnapshotDecodeError("bad magic");
  const metaLength = view.getUint32(12, true);
  const dataLength = getU64(view, 16);
  if (HEADER_BYTES + metaLength + dataLength !== file.byteLength) {
    throw new SnapshotDecodeError(
      `lengths (meta ${metaLength}, data ${dataLength}) do not match the file size ${file.byteLength}`,
    );
  }
  if (crc32(file.subarray(CRC_FROM)) !== view.getUint32(4, true)) throw new SnapshotDecodeError("checksum mismatch");
  const version = view.getUint16(8, true);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotDecodeError(`unsupported version ${version}`);
  let at = HEADER_BYTES;
  if (metaLength < 20) throw new SnapshotDecodeError(`metadata of ${metaLength} bytes is too short`);
  const index = getU64(view, at);
  const term = getU64(view, at + 8);
  const count = view.getUint32(at + 16, true);
  if (metaLength !== 20 + 8 * count) throw new SnapshotDecodeError(`metadata length ${metaLength} for ${count} voters`);
  at += 20;
  const voters: number[] = [];
  for (let i = 0; i < count; i++, at += 8) voters.push(getU64(view, at));
  // A plain Uint8Array view of the data: no copy of what may be a large file.
  const data = new Uint8Array(file.buffer, file.byteOffset + at, file.byteLength - at);
  return { metadata: { index, term, confState: { voters } }, data };
}
