// Control API: the cluster's unlock key (autolock). The key is part of the cluster object, so that
// it reaches every manager through Raft (whose files it keeps encrypted), but it leaves the store
// only here: Get/List/UpdateCluster blank it (clusters.ts, redacted()).
import {
  ErrorCode,
  ShoalError,
  type Cluster,
  type ClusterSpec,
  type GetUnlockKeyResponse,
  type RotateUnlockKeyResponse,
} from "@shoal/shared";
import { UnlockKey } from "../encryption/unlock-key.js";
import type { MemoryStore } from "../state/store/index.js";

const UNLOCK_KEY_BYTES = 32;

function notAutolocked(): ShoalError {
  return new ShoalError(
    ErrorCode.FailedPrecondition,
    "autolock is off: the cluster has no unlock key (shoal cluster update --autolock=true)",
  );
}

/** The unlock key a cluster should hold for `spec`: kept while autolock stays on, made when it turns
 *  on, dropped when it turns off. */
export function unlockKeyFor(cluster: Cluster, spec: ClusterSpec | undefined): Uint8Array {
  if (spec?.encryptionConfig?.autoLockManagers !== true) return new Uint8Array(0);
  if (cluster.unlockKey.byteLength === UNLOCK_KEY_BYTES) return cluster.unlockKey;
  return UnlockKey.generate().bytes();
}

function response(cluster: Cluster | undefined): GetUnlockKeyResponse {
  if (!cluster || cluster.unlockKey.byteLength !== UNLOCK_KEY_BYTES) throw notAutolocked();
  return { unlockKey: UnlockKey.fromBytes(cluster.unlockKey).reveal(), version: cluster.meta?.version };
}

export function getUnlockKey(store: MemoryStore): GetUnlockKeyResponse {
  return response(store.view((tx) => tx.clusters.find()[0]));
}

/** A new unlock key (autolock on); every manager re-wraps its data keys with it. On the leader. */
export async function rotateUnlockKey(store: MemoryStore): Promise<RotateUnlockKeyResponse> {
  const id = await store.update((tx) => {
    const cluster = tx.clusters.find()[0];
    if (!cluster || cluster.unlockKey.byteLength !== UNLOCK_KEY_BYTES) throw notAutolocked();
    tx.clusters.update({ ...cluster, unlockKey: UnlockKey.generate().bytes() });
    return cluster.id;
  });
  return response(store.view((tx) => tx.clusters.get(id)));
}

/** Where a manager reads the unlock key its data keys are wrapped with: undefined when autolock is off. */
export function clusterUnlockKey(cluster: Cluster | undefined): Uint8Array | undefined {
  if (cluster?.spec?.encryptionConfig?.autoLockManagers !== true) return undefined;
  return cluster.unlockKey.byteLength === UNLOCK_KEY_BYTES ? cluster.unlockKey : undefined;
}
