// The heartbeat period and grace time in effect: the cluster's dispatcher config where it sets
// them (`shoal cluster update`, `docker swarm update --dispatcher-heartbeat`), else this
// manager's own defaults. Read through cachedClusterSpec (at most once a second), so that a
// heartbeat costs no copy of the cluster object; a change takes effect within that second.
//
// The period grows with the cluster, as Nomad's heartbeat TTL does: never shorter than the
// cluster's node count over MAX_HEARTBEATS_PER_SECOND, so that the leader answers at most that
// many heartbeats a second however many nodes there are. With a 1 s period, 1,000 agents sent
// the leader 1,000 calls a second; below 250 nodes nothing changes. A node is always judged by
// the period it was told at its last heartbeat (the dispatcher arms its deadline with the same
// value), so a change of period never marks a node down that kept to the one it had.
import { durationToMs, type Clock, type ClusterSpec, type DispatcherConfig } from "@shoal/shared";
import { cachedClusterSpec, type MemoryStore } from "../state/store/index.js";

export interface HeartbeatDefaults {
  /** The period when the cluster sets none. */
  readonly periodMs: number;
  /** Periods without a heartbeat before a node is DOWN. */
  readonly missed: number;
  /** The grace time after a leader change when the cluster sets none; default missed periods + 5 s. */
  readonly graceMs?: number | undefined;
}

/** The most heartbeats a second the leader is asked to answer (Nomad's default is 50). */
export const MAX_HEARTBEATS_PER_SECOND = 250;

export class HeartbeatSettings {
  private readonly spec: () => ClusterSpec | undefined;
  private readonly nodes: () => number;

  constructor(
    store: MemoryStore,
    clock: Clock,
    private readonly defaults: HeartbeatDefaults,
  ) {
    this.spec = cachedClusterSpec(store, clock);
    this.nodes = cachedNodeCount(store, clock);
  }

  /** How often agents heartbeat: as set, or longer in a cluster of more nodes than the rate allows. */
  periodMs(): number {
    const ms = durationToMs(this.cluster()?.heartbeatPeriod, 0);
    const set = ms > 0 ? ms : this.defaults.periodMs;
    return Math.max(set, Math.ceil((this.nodes() / MAX_HEARTBEATS_PER_SECOND) * 1000));
  }

  /** How long a node may go without a heartbeat before it is DOWN. */
  downAfterMs(periodMs = this.periodMs()): number {
    return periodMs * this.defaults.missed;
  }

  /** How long a node that was up stays UNKNOWN after a leader change before it is DOWN. */
  graceMs(): number {
    const ms = durationToMs(this.cluster()?.gracePeriod, 0);
    if (ms > 0) return ms;
    return this.defaults.graceMs ?? this.downAfterMs() + 5000;
  }

  private cluster(): DispatcherConfig | undefined {
    return this.spec()?.dispatcher;
  }
}

/** How many nodes the store holds, read at most once a second (a heartbeat reads it). */
function cachedNodeCount(store: MemoryStore, clock: Clock, refreshMs = 1000): () => number {
  let count = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = clock.now();
    if (now - readAt >= refreshMs) {
      readAt = now;
      count = store.view((tx) => tx.nodes.scan().length);
    }
    return count;
  };
}
