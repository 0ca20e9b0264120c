import { describe, expect, it } from "vitest";
import { BackupHeader } from "@shoal/shared";
import {
  BACKUP_FORMAT_VERSION,
  BackupFileError,
  backupPrefix,
  readBackupFile,
  readBackupHeader,
} from "../../src/backup/index.js";
import { sha256 } from "../../src/backup/backup-file.js";

function file(store: Uint8Array, patch: Partial<BackupHeader> = {}): Buffer {
  const header = BackupHeader.fromPartial({
    formatVersion: BACKUP_FORMAT_VERSION,
    clusterId: "c1",
    raftIndex: 42,
    createdAt: new Date("2026-11-29T12:00:00Z"),
    storeSize: store.length,
    storeSha256: sha256(store),
    services: 3,
    ...patch,
  });
  return Buffer.concat([backupPrefix(header), store]);
}

describe("backup file", () => {
  const store = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

  it("round-trips the header and the store", () => {
    const { header, store: read } = readBackupFile(file(store));
    expect(header).toMatchObject({ clusterId: "c1", raftIndex: 42, services: 3 });
    expect(header.createdAt?.toISOString()).toBe("2026-11-29T12:00:00.000Z");
    expect([...read]).toEqual([...store]);
  });

  it("refuses a truncated, extended or altered file, and other formats", () => {
    const whole = file(store);
    expect(() => readBackupFile(whole.subarray(0, whole.length - 1))).toThrow(/truncated/);
    expect(() => readBackupFile(Buffer.concat([whole, Buffer.from([0])]))).toThrow(/extra bytes/);
    const altered = Buffer.from(whole);
    altered[altered.length - 1]! ^= 1;
    expect(() => readBackupFile(altered)).toThrow(/SHA-256/);
    expect(() => readBackupFile(whole.subarray(0, 10))).toThrow(BackupFileError);
    expect(() => readBackupHeader(Buffer.from("SHLS\u0001 a raft snapshot"))).toThrow(/does not start as/);
    expect(() => readBackupFile(file(store, { formatVersion: 2 }))).toThrow(/format version 2/);
  });
});
