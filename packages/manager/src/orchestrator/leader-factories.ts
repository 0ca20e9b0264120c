// The leader's components, from one set of shared dependencies: the orchestrators (replicated,
// global, jobs), the scheduler, the job cron and the root rotation's reconciler, in the order they
// start when this manager becomes leader.
// Each factory makes a fresh instance for each term of leadership.
import { errorMessage, type Clock, type Logger } from "@shoal/shared";
import { Allocator } from "../allocator/index.js";
import { JoinExpiry } from "../ca/join-expiry.js";
import { RootRotationReconciler } from "../ca/rotation-reconciler.js";
import { ManagerNodes, type ManagerNodesRaft } from "../nodes/manager-nodes.js";
import { backgroundLoop, type Loop } from "../lifecycle/component.js";
import type { ComponentFactory } from "../lifecycle/leader-components.js";
import { Scheduler, nodeMatchesTaskSpec } from "../scheduler/index.js";
import type { MemoryStore } from "../state/store/index.js";
import { JobCron } from "./cron/job-cron.js";
import { GlobalOrchestrator } from "./global/orchestrator.js";
import { JobOrchestrator } from "./jobs/orchestrator.js";
import { NetworkBootstrap } from "./network-bootstrap.js";
import type { NodeMatcher } from "./node-checks.js";
import { TaskReaper } from "./reaper/task-reaper.js";
import { ReplicatedOrchestrator } from "./replicated/orchestrator.js";
import { AutoRebalancer } from "./rebalance/auto-rebalancer.js";
import { RestartSupervisor } from "./restart/supervisor.js";
import { Updater } from "./update/updater.js";

export interface LeaderDeps {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Node ids of the Raft group's members (the managers), for the root rotation. */
  readonly managers: () => readonly string[];
  /** How long a joined node may take to show up before it is removed (JoinExpiry); default 10 min. */
  readonly joinGraceMs?: number | undefined;
  /** The leader's Raft group, for the managers' nodes and demotions; without it, none are kept. */
  readonly raft?: ManagerNodesRaft;
  /** Whether a node may run a task's spec; default nodeMatchesTaskSpec (constraints, platform). */
  readonly nodeMatches?: NodeMatcher;
  /** The automatic rebalancer's cool-down; default DEFAULT_REBALANCE_COOLDOWN_MS. */
  readonly rebalanceCooldownMs?: number | undefined;
}

/** The factories of the leader's components, in start order. */
export function leaderFactories(deps: LeaderDeps): ComponentFactory[] {
  const { store, logger, clock, managers } = deps;
  const nodeMatches = deps.nodeMatches ?? nodeMatchesTaskSpec;
  const loop =
    (name: string, make: () => Loop): ComponentFactory =>
    () =>
      backgroundLoop(name, make(), (err) =>
        logger.error({ component: name, err: errorMessage(err) }, "leader component failed"),
      );
  const raft = deps.raft;
  return [
    ...(raft ? [loop("manager-nodes", () => new ManagerNodes({ store, logger, clock, raft }))] : []),
    loop("replicated", () => new ReplicatedOrchestrator({ store, logger, clock })),
    loop("global", () => new GlobalOrchestrator({ store, logger, clock, nodeMatches })),
    loop("jobs", () => new JobOrchestrator({ store, logger, clock, nodeMatches })),
    loop("restart", () => new RestartSupervisor({ store, logger, clock, nodeMatches })),
    loop("updater", () => new Updater({ store, logger, clock, nodeMatches })),
    loop("auto-rebalance", () => new AutoRebalancer({ store, logger, clock, cooldownMs: deps.rebalanceCooldownMs })),
    loop("reaper", () => new TaskReaper({ store, logger, clock })),
    loop("allocator", () => new Allocator({ store, logger, clock })),
    loop("scheduler", () => new Scheduler({ store, logger, clock })),
    loop("cron", () => new JobCron({ store, logger, clock })),
    loop("ca-rotation", () => new RootRotationReconciler({ store, logger, clock, managers })),
    loop("join-expiry", () => new JoinExpiry({ store, logger, clock, managers, graceMs: deps.joinGraceMs })),
    loop("network-bootstrap", () => new NetworkBootstrap({ store, logger, clock })),
  ];
}
