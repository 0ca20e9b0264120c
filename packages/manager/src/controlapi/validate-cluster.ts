// Validation of a ClusterSpec given to UpdateCluster. Every error names the field it is about.
import { InvalidArgumentError, type Cluster, type ClusterSpec } from "@shoal/shared";
import { validateDuration } from "./validate-duration.js";
import { validateLabelKeys } from "./validate-labels.js";

/** The shortest node certificate lifetime a cluster may ask for. */
export const MIN_NODE_CERT_EXPIRY_MS = 60_000;

const MINUTE = { ms: 60_000, text: "1 minute" } as const;
const DAY = { ms: 86_400_000, text: "24 hours" } as const;
/** Certificates must end before X.509's year 9999; a century is plenty. */
const CENTURY = { ms: 100 * 365 * DAY.ms, text: "100 years" } as const;

function wholeCount(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`must be a whole number, 0 (the default) or more, not ${n}`, { field });
  }
}

/** Checks what a spec says on its own; the cluster's name is checked against the stored one by clusterSpecFor. */
export function validateClusterSpec(spec: ClusterSpec): void {
  validateLabelKeys(spec.annotations?.labels, "spec.annotations.labels");
  if (spec.orchestration) {
    wholeCount(spec.orchestration.taskHistoryRetentionLimit, "spec.orchestration.task_history_retention_limit");
  }
  if (spec.raft) wholeCount(spec.raft.snapshotInterval, "spec.raft.snapshot_interval");
  validateDuration(spec.dispatcher?.heartbeatPeriod, "spec.dispatcher.heartbeat_period", {
    min: { ms: 100, text: "100ms" },
    max: DAY,
  });
  validateDuration(spec.dispatcher?.gracePeriod, "spec.dispatcher.grace_period", { max: DAY });
  validateDuration(spec.caConfig?.nodeCertExpiry, "spec.ca_config.node_cert_expiry", { min: MINUTE, max: CENTURY });
}

/**
 * The spec to store for `current`: `requested` with the cluster's name kept when it gives none;
 * another name is refused (the cluster is found by it).
 */
export function clusterSpecFor(current: Cluster, requested: ClusterSpec): ClusterSpec {
  const name = current.spec?.annotations?.name ?? "";
  const given = requested.annotations?.name ?? "";
  if (given === "" || given === name) {
    return { ...requested, annotations: { labels: requested.annotations?.labels ?? {}, name } };
  }
  throw new InvalidArgumentError(`a cluster cannot be renamed (from "${name}" to "${given.slice(0, 64)}")`, {
    field: "spec.annotations.name",
  });
}
