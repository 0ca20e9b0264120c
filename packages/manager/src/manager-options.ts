// How a manager is started (the flags of `shoal manager`).
import type { Clock, Logger } from "@shoal/shared";
import type { RaftTuning } from "./state/raft/raft-start.js";

export interface ManagerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly listen: string;
  /** host:port other managers and agents reach this one on; default: the listen address. */
  readonly advertise?: string;
  /** host:port of a manager of the cluster to join (only with an empty data dir). */
  readonly join?: string;
  /** The cluster's manager join token, to join it. */
  readonly joinToken?: string;
  /**
   * Recover from a lost quorum (as `docker swarm init --force-new-cluster`): restart from the data
   * dir as the only manager of the cluster, keeping all of its state and its join tokens; the
   * other managers are no longer members (their raft messages are refused) and new ones can join.
   */
  readonly forceNewCluster?: boolean;
  readonly dataDir: string;
  /** HOST:PORT to serve the Docker Engine API on (for the docker CLI); off when unset. */
  readonly dockerApi?: string;
  /** HOST:PORT to serve the web dashboard on (HTTPS, docs/dashboard.md); off when unset. */
  readonly dashboard?: string;
  /** HOST:PORT to serve Prometheus metrics on, at /metrics; off when unset. */
  readonly metricsAddr?: string;
  /** Node certificate lifetime of a cluster founded now (its ca_config); default 90 days. */
  readonly certExpiryMs?: number;
  /** Pools and prefix length of networks' subnets in a cluster founded now (--default-addr-pool...). */
  readonly addressPool?: { readonly pools: readonly string[]; readonly subnetSize: number };
  /**
   * When this manager leads: how long a node that joined (NodeCA signed its certificate) may take
   * to open its first session or join the Raft group before it is removed (ca/join-expiry.ts);
   * default 10 minutes.
   */
  readonly joinGraceMs?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly heartbeatPeriodMs?: number;
  /** How long a node stays ready before auto services rebalance onto it (and their window); default 30 s. */
  readonly rebalanceCooldownMs?: number;
  readonly raft?: RaftTuning;
}
