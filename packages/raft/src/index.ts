// @shoal/raft: a deterministic Raft core in the style of etcd's raft. See raw-node.ts for the entry point
// and ready.ts for how a driver handles its output.
export { RawNode } from "./raw-node.js";
export type { SnapshotStatus } from "./raw-node.js";
export type { Ready } from "./ready.js";
export { isReadyEmpty } from "./ready.js";
export type { Config } from "./config.js";
export type { Storage, InitialState } from "./storage.js";
export { MemoryStorage } from "./memory-storage.js";
export type { MemoryStorageOptions } from "./memory-storage.js";
export { MemoryRaftDisk } from "./memory-disk.js";
export type { MemoryRaftDiskOptions, MemoryDiskWrite } from "./memory-disk.js";
export type { BasicStatus, Status, PeerProgress } from "./status.js";
export type { ProgressState } from "./tracker/progress.js";
export type { RandomSource } from "./random.js";
export { seededRandom } from "./random.js";
export type { RaftLogger, RaftLogFields } from "./logger.js";
export { silentLogger } from "./logger.js";
export { encodeConfChange, decodeConfChange, ConfChangeDecodeError } from "./conf-change-codec.js";
export { entrySize, ENTRY_OVERHEAD_BYTES } from "./entry-size.js";
export { forceNewCluster } from "./force-new-cluster.js";
export type { ForceNewClusterStorage, ForceNewClusterOptions, ForcedCluster } from "./force-new-cluster.js";
export {
  RaftError,
  CompactedError,
  UnavailableError,
  SnapOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  ProposalDroppedError,
  StepLocalMessageError,
  StepPeerNotFoundError,
  InvalidConfigError,
  ReadyNotAdvancedError,
  RaftInvariantError,
} from "./errors.js";
export type { RaftErrorCode, ProposalDropReason } from "./errors.js";
export {
  NONE,
  makeMessage,
  emptyHardState,
  isEmptyHardState,
  emptySnapshot,
  isEmptySnapshot,
  isLocalMessage,
  isResponseMessage,
} from "./types.js";
export type {
  Entry,
  EntryType,
  Message,
  MessageType,
  HardState,
  SoftState,
  StateRole,
  Snapshot,
  SnapshotMetadata,
  ConfState,
  ConfChange,
  ConfChangeType,
  ReadState,
} from "./types.js";
export {
  openRaftDisk,
  Wal,
  DEFAULT_SEGMENT_BYTES,
  SnapshotStore,
  DEFAULT_SNAPSHOT_RETAIN,
  DiskStorageError,
  DataLossError,
  WalLockedError,
  DiskClosedError,
  DiskInvalidArgumentError,
  DiskKeyError,
} from "./wal/index.js";
export { DataKey, KeyRing, CLEAR as CLEAR_DATA } from "./crypto/index.js";
export type {
  RaftDisk,
  RaftDiskOptions,
  PersistInput,
  SaveSnapshotOptions,
  WalOptions,
  WalReplay,
  SaveOptions,
  SnapshotMarker,
  SnapshotStoreOptions,
  LoadOptions,
  DiskStorageErrorCode,
} from "./wal/index.js";
