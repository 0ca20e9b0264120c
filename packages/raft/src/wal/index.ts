// The public names of the disk storage (write-ahead log, snapshot files, and the facade over both), for
// the package index to re-export.
export { openRaftDisk } from "./raft-disk.js";
export type { RaftDisk, RaftDiskOptions, PersistInput, SaveSnapshotOptions } from "./raft-disk.js";
export { Wal, DEFAULT_SEGMENT_BYTES } from "./wal.js";
export type { WalOptions, WalReplay, SaveOptions } from "./wal.js";
export type { SnapshotMarker } from "./codec.js";
export { SnapshotStore, DEFAULT_SNAPSHOT_RETAIN } from "../snapshot/snapshot-store.js";
export type { SnapshotStoreOptions, LoadOptions } from "../snapshot/snapshot-store.js";
export {
  DiskStorageError,
  DataLossError,
  WalLockedError,
  DiskClosedError,
  DiskInvalidArgumentError,
  DiskKeyError,
} from "./errors.js";
export type { DiskStorageErrorCode } from "./errors.js";
