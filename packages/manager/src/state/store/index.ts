// The store's public surface, re-exported by name from the package's index.ts.
export { MemoryStore, type MemoryStoreOptions, type UpdateOptions } from "./memory-store.js";
export { cachedClusterSpec } from "./cached-cluster-spec.js";
export { LocalProposer, type EntryApplier, type LocalProposerOptions, type Proposer } from "./proposer.js";
export type { ReadTx, WriteTx, TableReader, TableWriter } from "./tx.js";
export {
  DEFAULT_WATCH_CAPACITY,
  Subscription,
  WatchOverflowError,
  type CloseReason,
  type WatchOptions,
} from "./watch.js";
export {
  TABLE_NAMES,
  type CommitEvent,
  type ObjectEvent,
  type ObjectEventKind,
  type ResyncEvent,
  type StoreEvent,
  type StoreObject,
  type TableName,
  type TableTypes,
} from "./types.js";
export type { NodeQuery } from "./nodes.js";
export type { ServiceQuery } from "./services.js";
export type { TaskQuery } from "./tasks.js";
export type { ClusterQuery } from "./clusters.js";
export type { SecretQuery } from "./secrets.js";
export type { ConfigQuery } from "./configs.js";
export type { NetworkQuery } from "./networks.js";
export type { QueryTypes } from "./tables.js";
export { nodeName } from "./nodes.js";
