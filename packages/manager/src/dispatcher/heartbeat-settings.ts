// The heartbeat period and grace time in effect: the cluster's dispatcher config where it sets
// them (`shoal cluster update`, `docker swarm update --dispatcher-heartbeat`), else this
// manager's own defaults. Read through cachedClusterSpec (at most once a second), so that a
// heartbeat costs no copy of the cluster object; a change takes effect within that second.
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

export class HeartbeatSettings {
  private readonly spec: () => ClusterSpec | undefined;

  constructor(
    store: MemoryStore,
    clock: Clock,
    private readonly defaults: HeartbeatDefaults,
  ) {
    this.spec = cachedClusterSpec(store, clock);
  }

  /** How often agents heartbeat. */
  periodMs(): number {
    const ms = durationToMs(this.cluster()?.heartbeatPeriod, 0);
    return ms > 0 ? ms : this.defaults.periodMs;
  }

  /** How long a node may go without a heartbeat before it is DOWN. */
  downAfterMs(): number {
    return this.periodMs() * this.defaults.missed;
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
