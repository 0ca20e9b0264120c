// A manager's Prometheus metrics. Gauges are read when scraped (raft status, tasks by state,
// nodes by status); counters and the scheduling latency come from the store's watch, so they
// follow the replicated log: every manager counts the same cluster-wide changes (query one
// manager, or the leader: shoal_raft_is_leader == 1). Leader changes are seen by sampling the raft
// status every `sampleMs` on the injected clock.
import {
  NodeAvailability,
  MetricsServer,
  NodeState,
  TaskState,
  componentLogger,
  errorMessage,
  every,
  type Clock,
  type Logger,
  type Node,
  type Task,
  type Timer,
} from "@shoal/shared";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { WatchOverflowError, type MemoryStore } from "../state/store/index.js";
import type { RaftStatus, RaftView } from "../state/raft/raft-view.js";

/** The dispatcher's message on a node it marks down for missed heartbeats. */
const HEARTBEAT_FAILURE = "heartbeat failure";

export interface ManagerMetricsOptions {
  readonly store: MemoryStore;
  readonly raft: () => RaftView | undefined;
  readonly logger: Logger;
  /** Times the raft sampling. */
  readonly clock: Clock;
  /** Labels on every metric (node_id). */
  readonly labels?: Readonly<Record<string, string>>;
  /** How often the raft status is sampled for leader changes; default 100 ms. */
  readonly sampleMs?: number;
}

const stateName = (s: number): string => (TaskState[s] ?? String(s)).toLowerCase();

/** A task's first move from before ASSIGNED to ASSIGNED or beyond, on a node: it was scheduled. */
export function isScheduling(old: Task | undefined, task: Task): boolean {
  const before = old?.status?.state ?? TaskState.NEW;
  const now = task.status?.state ?? TaskState.NEW;
  return before < TaskState.ASSIGNED && now >= TaskState.ASSIGNED && task.nodeId !== "";
}

/** A node the dispatcher marked down for missed heartbeats. */
export function isHeartbeatFailure(old: Node | undefined, node: Node): boolean {
  return (
    old?.status?.state !== NodeState.DOWN &&
    node.status?.state === NodeState.DOWN &&
    node.status.message === HEARTBEAT_FAILURE
  );
}

export class ManagerMetrics {
  readonly registry = new Registry();
  private readonly logger: Logger;
  private readonly stopper = new AbortController();
  private readonly schedulingLatency: Histogram;
  private readonly heartbeatFailures: Counter;
  private readonly leaderChanges: Counter;
  private sampler: Timer | undefined;
  private watching: Promise<void> | undefined;
  private lastLeader = 0;

  constructor(private readonly options: ManagerMetricsOptions) {
    this.logger = componentLogger(options.logger, "metrics");
    const registers = [this.registry];
    if (options.labels) this.registry.setDefaultLabels({ ...options.labels });
    collectDefaultMetrics({ register: this.registry, prefix: "shoal_manager_" });
    const raftGauge = (name: string, help: string, read: (st: RaftStatus) => number): void => {
      const raft = options.raft;
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const node = raft();
          if (node === undefined) return;
          try {
            this.set(read(node.status()));
          } catch {
            // Still starting: no raft status yet.
          }
        },
      });
    };
    raftGauge("shoal_raft_term", "The raft term this manager is in.", (st) => st.term);
    raftGauge("shoal_raft_commit_index", "The highest raft index this manager knows committed.", (st) => st.commit);
    raftGauge(
      "shoal_raft_applied_index",
      "The highest raft index this manager applied to its store.",
      (st) => st.applied,
    );
    raftGauge("shoal_raft_apply_lag", "Committed entries not applied yet (commit - applied).", (st) =>
      Math.max(0, st.commit - st.applied),
    );
    raftGauge("shoal_raft_leader_id", "Raft id of the leader this manager knows (0: none).", (st) => st.leader);
    new Gauge({
      name: "shoal_raft_is_leader",
      help: "1 when this manager is the raft leader.",
      registers,
      collect() {
        this.set(options.raft()?.isLeader ? 1 : 0);
      },
    });
    new Gauge({
      name: "shoal_raft_members",
      help: "Members of the raft group, as this manager knows them.",
      registers,
      collect() {
        this.set(options.raft()?.memberList().length ?? 0);
      },
    });
    this.leaderChanges = new Counter({
      name: "shoal_raft_leader_changes_total",
      help: "Times this manager saw a new leader (sampled every 100 ms).",
      registers,
    });
    const store = options.store;
    new Gauge({
      name: "shoal_tasks",
      help: "Tasks in the store by observed state.",
      labelNames: ["state"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<number, number>();
        store.view((tx) => {
          for (const t of tx.tasks.scan()) {
            const s = t.status?.state ?? TaskState.NEW;
            counts.set(s, (counts.get(s) ?? 0) + 1);
          }
        });
        for (const [s, n] of counts) this.set({ state: stateName(s) }, n);
      },
    });
    new Gauge({
      name: "shoal_nodes",
      help: "Nodes in the store by status and availability.",
      labelNames: ["status", "availability"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        store.view((tx) => {
          for (const n of tx.nodes.scan()) {
            const key = `${n.status?.state ?? NodeState.UNKNOWN}/${n.spec?.availability ?? NodeAvailability.ACTIVE}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
        });
        for (const [key, n] of counts) {
          const [status, availability] = key.split("/").map(Number) as [number, number];
          this.set(
            {
              status: (NodeState[status] ?? String(status)).toLowerCase(),
              availability: (NodeAvailability[availability] ?? String(availability)).toLowerCase(),
            },
            n,
          );
        }
      },
    });
    this.schedulingLatency = new Histogram({
      name: "shoal_scheduling_latency_seconds",
      help: "From a task's creation to its assignment to a node (store times).",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.heartbeatFailures = new Counter({
      name: "shoal_dispatcher_heartbeat_failures_total",
      help: "Nodes the dispatcher marked down because their heartbeats stopped.",
      registers,
    });
  }

  /** Starts watching the store and sampling raft. */
  start(): void {
    if (this.watching) return;
    this.watching = this.watch(this.stopper.signal);
    this.sampler = every(this.options.clock, this.options.sampleMs ?? 100, () => this.sample());
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.sampler?.cancel();
    await this.watching;
  }

  private sample(): void {
    let leader: number;
    try {
      leader = this.options.raft()?.leaderId ?? 0;
    } catch {
      return;
    }
    if (leader !== 0 && leader !== this.lastLeader) {
      this.leaderChanges.inc();
      this.lastLeader = leader;
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const peek = (table: string, object: unknown, old: unknown): boolean =>
      table === "tasks"
        ? isScheduling(old as Task | undefined, object as Task)
        : isHeartbeatFailure(old as Node | undefined, object as Node);
    while (!signal.aborted) {
      const sub = this.options.store.watch({
        tables: ["tasks", "nodes"],
        kinds: ["create", "update"],
        peek,
        commits: "never",
        signal,
      });
      try {
        for await (const e of sub) {
          if (e.kind === "commit" || e.kind === "resync") continue;
          if (e.table === "tasks") {
            const created = e.object.meta?.createdAt?.getTime();
            const assigned = e.object.meta?.updatedAt?.getTime();
            if (created !== undefined && assigned !== undefined)
              this.schedulingLatency.observe(Math.max(0, assigned - created) / 1000);
          } else if (e.table === "nodes") {
            this.heartbeatFailures.inc();
          }
        }
        return;
      } catch (err: unknown) {
        if (!(err instanceof WatchOverflowError)) {
          this.logger.error({ err: errorMessage(err) }, "metrics watch failed");
          return;
        }
      }
    }
  }
}

/** The metrics of a manager and the server that exposes them; stop() ends both. */
export async function serveManagerMetrics(
  listen: string,
  options: ManagerMetricsOptions,
): Promise<{ address: string; metrics: ManagerMetrics; stop(): Promise<void> }> {
  const metrics = new ManagerMetrics(options);
  metrics.start();
  const server = new MetricsServer(metrics.registry, listen, options.logger);
  try {
    await server.start();
  } catch (err: unknown) {
    await metrics.stop();
    throw err;
  }
  return {
    address: server.address,
    metrics,
    stop: async () => {
      await server.stop();
      await metrics.stop();
    },
  };
}
