// A Docker swarm spec (the body of POST /swarm/update) as Shoal's ClusterSpec. As with Docker, the
// body is the whole spec: the docker CLI sends back what GET /swarm showed with its changes, and a
// field left out or 0 means its default (docker-py sends only what it is given). What Shoal does
// not do is refused with a 400 that names the field, never stored and ignored:
// - Raft.* but SnapshotInterval: each manager runs with the settings it was started with; the ones
//   shown (or 0) are accepted, others refused. Raft.SnapshotInterval and
//   Dispatcher.HeartbeatPeriod are the cluster's: stored (0: back to the managers' own).
// - CAConfig.ExternalCAs, SigningCACert, SigningCAKey: the cluster's CA is its own.
// - TaskDefaults.LogDriver: there is no cluster-wide log driver.
// - Orchestration.TaskHistoryRetentionLimit below 0 (Docker: keep everything).
// CAConfig.ForceRotate above 0 (`docker swarm ca --rotate` adds 1 to the 0 shown) starts a root CA
// rotation. The labels Shoal keeps on the cluster for itself (stack networks) are kept.
import { InvalidArgumentError, type Cluster, type ClusterSpec, type Duration } from "@shoal/shared";
import type { Shape } from "./json-shape.js";
import { effectiveSettings, type ManagerSettings } from "./manager-settings.js";
import { retainedEntries } from "../state/raft/snapshotter.js";
import { NS_PER_MS, isReservedClusterLabel } from "./swarm-view.js";

export interface DockerSwarmSpec {
  Name?: string | null;
  Labels?: Record<string, string> | null;
  Orchestration?: { TaskHistoryRetentionLimit?: number | null } | null;
  Raft?: {
    SnapshotInterval?: number | null;
    KeepOldSnapshots?: number | null;
    LogEntriesForSlowFollowers?: number | null;
    ElectionTick?: number | null;
    HeartbeatTick?: number | null;
  } | null;
  Dispatcher?: { HeartbeatPeriod?: number | null } | null;
  CAConfig?: {
    NodeCertExpiry?: number | null;
    ExternalCAs?: unknown;
    SigningCACert?: string | null;
    SigningCAKey?: string | null;
    ForceRotate?: number | null;
  } | null;
  EncryptionConfig?: { AutoLockManagers?: boolean | null } | null;
  TaskDefaults?: { LogDriver?: unknown } | null;
}

export const SWARM_SPEC_SHAPE: Shape = {
  object: {
    Name: "string",
    Labels: { map: "string" },
    Orchestration: { object: { TaskHistoryRetentionLimit: "number" } },
    Raft: {
      object: {
        SnapshotInterval: "number",
        KeepOldSnapshots: "number",
        LogEntriesForSlowFollowers: "number",
        ElectionTick: "number",
        HeartbeatTick: "number",
      },
    },
    Dispatcher: { object: { HeartbeatPeriod: "number" } },
    CAConfig: {
      object: {
        NodeCertExpiry: "number",
        ExternalCAs: "any",
        SigningCACert: "string",
        SigningCAKey: "string",
        ForceRotate: "number",
      },
    },
    EncryptionConfig: { object: { AutoLockManagers: "boolean" } },
    TaskDefaults: { object: { LogDriver: "any" } },
  },
};

export interface SwarmUpdate {
  readonly spec: ClusterSpec;
  /** CAConfig.ForceRotate asked for a new root CA. */
  readonly rotateRootCa: boolean;
}

/** A whole number, 0 or more, or undefined when absent. */
function count(value: number | null | undefined, field: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`must be a whole number, 0 or more, not ${value}`, { field });
  }
  return value;
}

/** A setting each manager takes from its start options: only the one in force, or 0, is accepted. */
function managerSetting(
  value: number | null | undefined,
  inForce: number,
  field: string,
  alsoAccepted: readonly number[] = [],
): void {
  const given = count(value, field);
  if (given === undefined || given === 0 || given === inForce || alsoAccepted.includes(given)) return;
  throw new InvalidArgumentError(
    `cannot be changed to ${given}: each Shoal manager runs with the value it was started with (${inForce}), ` +
      "not the swarm spec's",
    { field },
  );
}

function refuse(field: string, why: string): never {
  throw new InvalidArgumentError(why, { field });
}

function durationFromNs(ns: number): Duration {
  const seconds = Math.floor(ns / 1e9);
  return { seconds, nanos: ns - seconds * 1e9 };
}

function labelsFor(given: Record<string, string> | null | undefined, current: Cluster): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(given ?? {})) {
    if (isReservedClusterLabel(k)) refuse(`Labels.${k}`, "is a label Shoal keeps for itself");
    labels[k] = v;
  }
  for (const [k, v] of Object.entries(current.spec?.annotations?.labels ?? {})) {
    if (isReservedClusterLabel(k)) labels[k] = v;
  }
  return labels;
}

function checkCaConfig(ca: NonNullable<DockerSwarmSpec["CAConfig"]>): void {
  const external = ca.ExternalCAs;
  if (external !== null && external !== undefined && !(Array.isArray(external) && external.length === 0)) {
    refuse(
      "CAConfig.ExternalCAs",
      "is not supported: Shoal's managers sign node certificates with the cluster's own CA",
    );
  }
  for (const field of ["SigningCACert", "SigningCAKey"] as const) {
    if (ca[field]) {
      refuse(
        `CAConfig.${field}`,
        "is not supported: a new root CA is made by the cluster (CAConfig.ForceRotate, or shoal cluster ca --rotate)",
      );
    }
  }
}

/** The ClusterSpec to store for `body`, given the cluster as it is and the serving manager's settings. */
export function fromDockerSwarmSpec(body: DockerSwarmSpec, current: Cluster, settings: ManagerSettings): SwarmUpdate {
  const name = current.spec?.annotations?.name || "default";
  if (body.Name && body.Name !== name) refuse("Name", `swarm spec must be named "${name}"`);

  const raft = body.Raft ?? {};
  const shown = effectiveSettings(current, settings);
  // The value shown sent back unchanged keeps what the spec had (unset stays unset).
  const interval = count(raft.SnapshotInterval, "Raft.SnapshotInterval");
  const snapshotInterval = interval === shown.snapshotInterval ? current.spec?.raft?.snapshotInterval : interval;
  managerSetting(raft.KeepOldSnapshots, settings.keepOldSnapshots, "Raft.KeepOldSnapshots");
  const slow = retainedEntries(snapshotInterval || settings.snapshotInterval);
  managerSetting(raft.LogEntriesForSlowFollowers, slow, "Raft.LogEntriesForSlowFollowers", [
    shown.logEntriesForSlowFollowers,
  ]);
  managerSetting(raft.ElectionTick, settings.electionTick, "Raft.ElectionTick");
  managerSetting(raft.HeartbeatTick, settings.heartbeatTick, "Raft.HeartbeatTick");
  const periodNs = count(body.Dispatcher?.HeartbeatPeriod, "Dispatcher.HeartbeatPeriod");
  const heartbeatPeriod =
    periodNs === Math.round(shown.heartbeatPeriodMs * NS_PER_MS)
      ? current.spec?.dispatcher?.heartbeatPeriod
      : periodNs
        ? durationFromNs(periodNs)
        : undefined;

  const ca = body.CAConfig ?? {};
  checkCaConfig(ca);
  const expiryNs = count(ca.NodeCertExpiry, "CAConfig.NodeCertExpiry") ?? 0;
  const forceRotate = count(ca.ForceRotate, "CAConfig.ForceRotate") ?? 0;
  if (body.TaskDefaults?.LogDriver !== null && body.TaskDefaults?.LogDriver !== undefined) {
    refuse("TaskDefaults.LogDriver", "is not supported: Shoal has no default log driver for tasks");
  }
  const history = count(body.Orchestration?.TaskHistoryRetentionLimit, "Orchestration.TaskHistoryRetentionLimit");

  const spec = current.spec;
  return {
    spec: {
      annotations: { name, labels: labelsFor(body.Labels, current) },
      orchestration: { ...spec?.orchestration, taskHistoryRetentionLimit: history ?? 0 },
      raft: { ...spec?.raft, snapshotInterval: snapshotInterval ?? 0 },
      dispatcher: { gracePeriod: spec?.dispatcher?.gracePeriod, heartbeatPeriod },
      caConfig: { ...spec?.caConfig, nodeCertExpiry: expiryNs > 0 ? durationFromNs(expiryNs) : undefined },
      encryptionConfig: {
        ...spec?.encryptionConfig,
        autoLockManagers: body.EncryptionConfig?.AutoLockManagers === true,
      },
    },
    rotateRootCa: forceRotate > 0,
  };
}
