// The backup file: what `shoal cluster backup` writes and `shoal manager --restore` reads.
//
//   "SHOALBAK"                 8 bytes, magic
//   uint32 (big-endian) n      length of the header
//   n bytes                    BackupHeader (protobuf): format version, cluster id, raft index,
//                              time, node, Shoal version, store length and SHA-256, counts
//   store bytes                the store as a raft snapshot holds it (state/store/snapshot.ts)
//
// A reader checks everything before it uses anything: magic, a known format version, the
// store's length and digest (a truncated or altered file is refused), and, on restore, that the
// store decodes.
import { createHash } from "node:crypto";
import { BackupHeader, ErrorCode, ShoalError } from "@shoal/shared";

export const BACKUP_MAGIC = Buffer.from("SHOALBAK", "latin1");
export const BACKUP_FORMAT_VERSION = 1;
/** A header larger than this is not one of ours. */
const MAX_HEADER = 64 * 1024;

export class BackupFileError extends ShoalError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.DataLoss, `not a usable backup: ${message}`, options);
  }
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/** The bytes that come before the store: magic, header length, header. */
export function backupPrefix(header: BackupHeader): Uint8Array {
  const encoded = BackupHeader.encode(header).finish();
  const length = Buffer.alloc(4);
  length.writeUInt32BE(encoded.length);
  return Buffer.concat([BACKUP_MAGIC, length, encoded]);
}

/** Reads the header alone (for display), checking the magic and the format version. */
export function readBackupHeader(bytes: Uint8Array): { header: BackupHeader; storeOffset: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < BACKUP_MAGIC.length + 4 || !buf.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) {
    throw new BackupFileError("it does not start as a Shoal backup file does");
  }
  const n = buf.readUInt32BE(BACKUP_MAGIC.length);
  const start = BACKUP_MAGIC.length + 4;
  if (n > MAX_HEADER || start + n > buf.length) throw new BackupFileError("the header is truncated or too large");
  let header: BackupHeader;
  try {
    header = BackupHeader.decode(buf.subarray(start, start + n));
  } catch (err: unknown) {
    throw new BackupFileError("the header does not decode", { cause: err });
  }
  if (header.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new BackupFileError(
      `format version ${header.formatVersion}; this version of Shoal reads version ${BACKUP_FORMAT_VERSION}`,
    );
  }
  return { header, storeOffset: start + n };
}

/** The header and the store bytes of a whole file, length and digest checked. */
export function readBackupFile(bytes: Uint8Array): { header: BackupHeader; store: Uint8Array } {
  const { header, storeOffset } = readBackupHeader(bytes);
  const store = bytes.subarray(storeOffset);
  if (store.length !== header.storeSize) {
    throw new BackupFileError(
      `the store is ${store.length} bytes, the header says ${header.storeSize}: the file is truncated or has extra bytes`,
    );
  }
  if (!Buffer.from(sha256(store)).equals(Buffer.from(header.storeSha256))) {
    throw new BackupFileError("the store's SHA-256 does not match the header: the file is damaged");
  }
  return { header, store };
}
