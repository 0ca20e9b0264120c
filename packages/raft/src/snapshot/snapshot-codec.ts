// The snapshot file format, little-endian:
//
//   magic u32 ("SHSN") | crc32 u32 | version u16 | reserved u16 | metaLength u32 | dataLength u64
//   | meta: index u64 | term u64 | voterCount u32 | voterCount x u64
//   | data
//
// The CRC-32 covers everything after the crc field (version, lengths, meta and data), so a torn or flipped
// file is recognised whole. Lengths are checked against the file size before the CRC is computed.
//
// Encrypted (with a data key), the clear file above is sealed whole (crypto/seal.ts) behind its own header:
//
//   magic u32 ("SHSE") | crc32 u32 | version u16 | reserved u16 | term u64 | index u64
//   | keyId (8) | nonce (12) | AES-256-GCM(clear file) | tag (16)
//
// The CRC covers everything after its field, so a torn or flipped file is still told before decryption;
// the header after the CRC (version, term, index) is the GCM's additional data, so a sealed file cannot be renamed into
// another snapshot's place. A file under a key not given is a DiskKeyError (wrong key), not a corrupt file.
import { crc32 } from "node:zlib";
import type { DataKey } from "../crypto/data-key.js";
import { CLEAR, KEY_ID_BYTES, KeyRing } from "../crypto/data-key.js";
import { SEAL_OVERHEAD, SealAuthError, seal, unseal } from "../crypto/seal.js";
import type { Snapshot } from "../types.js";

export const SNAPSHOT_MAGIC = 0x4e534853; // "SHSN" read as a little-endian u32
export const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 4 + 2 + 2 + 4 + 4 + 8;
const CRC_FROM = 8;
const TWO_32 = 0x1_0000_0000;

export const SEALED_SNAPSHOT_MAGIC = 0x45534853; // "SHSE"
const SEALED_HEADER_BYTES = 4 + 4 + 2 + 2 + 8 + 8;

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

/** The file's bytes: clear, or sealed with `key`. */
export function encodeSnapshotFile(s: Snapshot, key: DataKey | undefined): Buffer[] {
  const [head, data] = encodeSnapshot(s);
  if (key === undefined) return [head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
  const header = Buffer.alloc(SEALED_HEADER_BYTES);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(0, SEALED_SNAPSHOT_MAGIC, true);
  view.setUint16(8, SNAPSHOT_VERSION, true);
  putU64(view, 12, s.metadata.term);
  putU64(view, 20, s.metadata.index);
  const sealed = seal(key, header.subarray(8), [head, data]);
  view.setUint32(4, crc32(sealed, crc32(header.subarray(CRC_FROM))), true);
  return [header, sealed];
}

/** Decode a clear or sealed file. Throws SnapshotDecodeError (corrupt, tampered), or UnknownKeyError from
 *  crypto/seal.ts when it is sealed with a key the ring does not hold. */
export function decodeSnapshotFile(file: Uint8Array, keys: KeyRing | undefined): Snapshot {
  if (file.byteLength < 4) throw new SnapshotDecodeError(`file of ${file.byteLength} bytes is too short`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== SEALED_SNAPSHOT_MAGIC) return decodeSnapshot(file);
  if (file.byteLength < SEALED_HEADER_BYTES + SEAL_OVERHEAD) {
    throw new SnapshotDecodeError(`sealed file of ${file.byteLength} bytes is too short`);
  }
  if (crc32(file.subarray(CRC_FROM)) !== view.getUint32(4, true)) throw new SnapshotDecodeError("checksum mismatch");
  const version = view.getUint16(8, true);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotDecodeError(`unsupported version ${version}`);
  const term = getU64(view, 12);
  const index = getU64(view, 20);
  let clear: Buffer;
  try {
    clear = unseal(keys ?? NO_KEYS, file.subarray(8, SEALED_HEADER_BYTES), file.subarray(SEALED_HEADER_BYTES));
  } catch (err: unknown) {
    if (err instanceof SealAuthError) throw new SnapshotDecodeError(`sealed snapshot ${err.message}`);
    throw err;
  }
  const snap = decodeSnapshot(clear);
  if (snap.metadata.term !== term || snap.metadata.index !== index) {
    throw new SnapshotDecodeError(
      `sealed header says ${term}-${index}, its content ${snap.metadata.term}-${snap.metadata.index}`,
    );
  }
  return snap;
}

/** The key id (or CLEAR) of a snapshot file, from its first bytes (at least KEY_ID_PREFIX_BYTES). */
export function snapshotKeyId(prefix: Uint8Array): string {
  if (prefix.byteLength < KEY_ID_PREFIX_BYTES) return CLEAR;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (view.getUint32(0, true) !== SEALED_SNAPSHOT_MAGIC) return CLEAR;
  return Buffer.from(prefix.buffer, prefix.byteOffset + SEALED_HEADER_BYTES, KEY_ID_BYTES).toString("hex");
}

export const KEY_ID_PREFIX_BYTES = SEALED_HEADER_BYTES + KEY_ID_BYTES;
const NO_KEYS = new KeyRing();
