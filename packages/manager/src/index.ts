export { Manager, type ManagerOptions } from "./manager.js";
export { Dispatcher, type DispatcherOptions } from "./dispatcher/dispatcher.js";
export { StatusBatcher, type StatusBatcherOptions } from "./dispatcher/status-batcher.js";
export { RaftNode, type RaftNodeOptions, type RaftNodeSettings } from "./state/raft/raft-node.js";
export { startRaftNode, type StartRaftNodeOptions } from "./state/raft/start-raft-node.js";
export { NotLeaderError } from "./state/raft/not-leader-error.js";
export type { StateMachine } from "./state/raft/state-machine.js";
export type { PeerTransport, PeerReports } from "./state/raft/peer-transport.js";
export type { RaftView, RaftStatus, PeerStatus, LinearizableReader } from "./state/raft/raft-view.js";
export { MemoryNetwork, type MemoryEndpoint } from "./state/raft/memory-network.js";
export { cryptoRandomBytes, seededRandomBytes, type RandomBytes } from "./random-bytes.js";
export { validateServiceSpec, isImageReference } from "./controlapi/validate-service.js";
export {
  MemoryStore,
  LocalProposer,
  Subscription,
  WatchOverflowError,
  DEFAULT_WATCH_CAPACITY,
  TABLE_NAMES,
  type MemoryStoreOptions,
  type UpdateOptions,
  type EntryApplier,
  type LocalProposerOptions,
  type Proposer,
  type ReadTx,
  type WriteTx,
  type StoreEvent,
  type StoreObject,
  type TableName,
} from "./state/store/index.js";
export {
  Scheduler,
  scheduleBatch,
  placeTasks,
  NodeSet,
  parseConstraints,
  parseConstraint,
  parsePlacementPreferences,
  parseSpreadDescriptor,
  nodeMatchesConstraints,
  nodeMatchesTaskSpec,
  needsPlacement,
  ASSIGNED_MESSAGE,
  PENDING_MESSAGE,
  type SchedulerOptions,
  type ScheduleResult,
  type PassStats,
  type Constraint,
  type SpreadLabel,
} from "./scheduler/index.js";
export { EventLog, eventsHandlers, type EventLogOptions } from "./events/index.js";
export { ManagerMetrics, serveManagerMetrics, type ManagerMetricsOptions } from "./metrics/index.js";
export { loadIdentity, type ManagerIdentity } from "./identity.js";
export { nodeCertDir } from "./ca/manager-certificate.js";
export { CLIENT_CERT_DIR } from "./ca/cluster-init.js";
export {
  BackupFileError,
  checkBackupFile,
  readBackupHeader,
  restoreBackup,
  type RestoreOptions,
} from "./backup/index.js";
export {
  isRotating,
  needsRenewal,
  planRotation,
  recordManagerRenewal,
  rotationProgress,
  signingDigest,
  startRotation,
  type RotationProgress,
  type RotationStep,
} from "./ca/root-rotation.js";
export {
  RootRotationReconciler,
  DEFAULT_ROTATION_POLL_MS,
  type RootRotationReconcilerOptions,
} from "./ca/rotation-reconciler.js";
export {
  RaftKeys,
  UnlockKey,
  InvalidUnlockKeyError,
  ManagerLockedError,
  UnlockSocket,
  AutolockFollower,
  callUnlockSocket,
  unlockSocketPath,
  UNLOCK_KEY_PREFIX,
  type AutolockFollowerOptions,
  type CallUnlockSocketOptions,
} from "./encryption/index.js";
export { jobProgress, jobProgressText, type JobProgress } from "./orchestrator/index.js";
export { leaderFactories, type LeaderDeps } from "./orchestrator/leader-factories.js";
export { LoopbackContainerCalls, type ContainerCallSession } from "./containers/container-calls-client.js";
export { DashboardServer, createLogin, redeemLogin, type DashboardServerOptions } from "./dashboard/index.js";
