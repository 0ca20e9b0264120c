// Shoal's cluster as Docker shows a swarm: ClusterInfo (Swarm.Cluster of GET /info) and, with the
// join tokens, the Swarm of GET /swarm. Every value is the one in force: a default where the spec
// leaves a field unset, and the serving manager's own Raft and dispatcher settings, which Shoal
// does not take from the spec (manager-settings.ts).
import { pki, type Cluster } from "@shoal/shared";
import { certLifetimeMs } from "../ca/node-ca-service.js";
import { isRotating } from "../ca/root-rotation.js";
import { historyLimit } from "../orchestrator/reaper/reconcile.js";
import { effectiveSettings, type ManagerSettings } from "./manager-settings.js";
import { isLegacyNetworkLabel as isNetworkLabel } from "../orchestrator/network-bootstrap.js";
import { DEFAULT_ADDRESS_POOL, DEFAULT_SUBNET_SIZE } from "../controlapi/network-allocation.js";

/** The UDP port of VXLAN between nodes (the data plane's). */
const VXLAN_PORT = 4789;
import { swarmTlsInfo } from "./tls-info.js";
import { UNMAPPED_LABEL } from "./unmapped-fields.js";

/** Nanoseconds in a millisecond: Docker's durations are int64 nanoseconds. */
export const NS_PER_MS = 1_000_000;

/** Cluster labels Shoal keeps for itself (a stack's networks, ...): never shown, kept on updates. */
export function isReservedClusterLabel(key: string): boolean {
  return isNetworkLabel(key) || key === UNMAPPED_LABEL;
}

/** The labels a Docker client sees on the swarm: the user's. */
export function swarmLabels(cluster: Cluster): Record<string, string> {
  return Object.fromEntries(
    Object.entries(cluster.spec?.annotations?.labels ?? {}).filter(([k]) => !isReservedClusterLabel(k)),
  );
}

/** The swarm's Spec. */
export function toDockerSwarmSpec(cluster: Cluster, managerSettings: ManagerSettings): Record<string, unknown> {
  const settings = effectiveSettings(cluster, managerSettings);
  const certExpiryMs = certLifetimeMs(cluster) ?? pki.DEFAULT_NODE_CERT_LIFETIME_MS;
  return {
    Name: cluster.spec?.annotations?.name || "default",
    Labels: swarmLabels(cluster),
    Orchestration: { TaskHistoryRetentionLimit: historyLimit(cluster) },
    Raft: {
      SnapshotInterval: settings.snapshotInterval,
      KeepOldSnapshots: settings.keepOldSnapshots,
      LogEntriesForSlowFollowers: settings.logEntriesForSlowFollowers,
      ElectionTick: settings.electionTick,
      HeartbeatTick: settings.heartbeatTick,
    },
    Dispatcher: { HeartbeatPeriod: Math.round(settings.heartbeatPeriodMs * NS_PER_MS) },
    CAConfig: { NodeCertExpiry: Math.round(certExpiryMs * NS_PER_MS) },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: cluster.spec?.encryptionConfig?.autoLockManagers === true },
  };
}

/**
 * The swarm as `GET /info` shows it (Swarm.Cluster): with the pools networks' subnets come from
 * (10.0.0.0/8 by default), their size, and the VXLAN port (4789).
 */
export function toDockerClusterInfo(cluster: Cluster, settings: ManagerSettings): Record<string, unknown> {
  const meta = cluster.meta;
  const created = meta?.createdAt?.toISOString();
  const updated = (meta?.updatedAt ?? meta?.createdAt)?.toISOString();
  return {
    ID: cluster.id,
    Version: { Index: meta?.version?.index ?? 0 },
    ...(created ? { CreatedAt: created } : {}),
    ...(updated ? { UpdatedAt: updated } : {}),
    Spec: toDockerSwarmSpec(cluster, settings),
    TLSInfo: swarmTlsInfo(cluster.rootCa),
    RootRotationInProgress: isRotating(cluster.rootCa),
    DefaultAddrPool: cluster.defaultAddressPool.length > 0 ? [...cluster.defaultAddressPool] : [DEFAULT_ADDRESS_POOL],
    SubnetSize: cluster.subnetSize || DEFAULT_SUBNET_SIZE,
    DataPathPort: VXLAN_PORT,
  };
}

/** The swarm as `GET /swarm` shows it: ClusterInfo and the join tokens. */
export function toDockerSwarm(cluster: Cluster, settings: ManagerSettings): Record<string, unknown> {
  return {
    ...toDockerClusterInfo(cluster, settings),
    JoinTokens: { Worker: cluster.rootJoinTokens?.worker ?? "", Manager: cluster.rootJoinTokens?.manager ?? "" },
  };
}
