// The Raft and dispatcher settings a Docker swarm keeps in its cluster spec (Spec.Raft,
// Spec.Dispatcher). The snapshot interval and the heartbeat period are the cluster's where its
// spec sets them (the managers follow it); the rest each manager runs with as it was started
// (`shoal manager` options, else the defaults below). The Docker API shows what is in force
// (effectiveSettings) and refuses a spec that asks for other values of the rest (swarm-spec.ts).
import { DEFAULT_SNAPSHOT_RETAIN } from "@shoal/raft";
import { durationToMs, type Cluster } from "@shoal/shared";
import { DEFAULT_HEARTBEAT_PERIOD_MS } from "../dispatcher/dispatcher.js";
import { DEFAULT_ELECTION_TICK, DEFAULT_HEARTBEAT_TICK } from "../state/raft/raft-node-options.js";
import { DEFAULT_SNAPSHOT_INTERVAL, retainedEntries } from "../state/raft/snapshotter.js";

export interface ManagerSettings {
  /** Applied entries between two snapshots (Raft.SnapshotInterval). */
  readonly snapshotInterval: number;
  /** Snapshot files kept besides the newest (Raft.KeepOldSnapshots). */
  readonly keepOldSnapshots: number;
  /** Log entries kept behind a snapshot for followers a little behind (Raft.LogEntriesForSlowFollowers). */
  readonly logEntriesForSlowFollowers: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** How often agents heartbeat (Dispatcher.HeartbeatPeriod). */
  readonly heartbeatPeriodMs: number;
}

/** The settings of a manager started with these options. */
export function managerSettings(options: {
  readonly raft?: { readonly electionTick?: number; readonly snapshotInterval?: number } | undefined;
  readonly heartbeatPeriodMs?: number | undefined;
}): ManagerSettings {
  const snapshotInterval = options.raft?.snapshotInterval ?? DEFAULT_SNAPSHOT_INTERVAL;
  return {
    snapshotInterval,
    keepOldSnapshots: DEFAULT_SNAPSHOT_RETAIN - 1,
    logEntriesForSlowFollowers: retainedEntries(snapshotInterval),
    electionTick: options.raft?.electionTick ?? DEFAULT_ELECTION_TICK,
    heartbeatTick: DEFAULT_HEARTBEAT_TICK,
    heartbeatPeriodMs: options.heartbeatPeriodMs ?? DEFAULT_HEARTBEAT_PERIOD_MS,
  };
}

/** What is in force: the cluster's snapshot interval and heartbeat period where set, else the manager's. */
export function effectiveSettings(cluster: Cluster | undefined, settings: ManagerSettings): ManagerSettings {
  const snapshotInterval = cluster?.spec?.raft?.snapshotInterval || settings.snapshotInterval;
  const heartbeatPeriodMs = durationToMs(cluster?.spec?.dispatcher?.heartbeatPeriod, 0) || settings.heartbeatPeriodMs;
  return {
    ...settings,
    snapshotInterval,
    logEntriesForSlowFollowers: retainedEntries(snapshotInterval),
    heartbeatPeriodMs,
  };
}

/** A manager started without Raft or dispatcher options. */
export const DEFAULT_MANAGER_SETTINGS: ManagerSettings = managerSettings({});
