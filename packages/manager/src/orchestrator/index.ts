// The orchestrators: leader-only components that turn services into tasks and look after them.
// Each is `new X({ store, logger, clock })`, `run(signal)`, idempotent `stop()`; they talk only
// through the store. The reconcilers behind them are pure and exported for tests and tools.
export { ReplicatedOrchestrator, type ReplicatedOrchestratorOptions } from "./replicated/orchestrator.js";
export { planReplicated, planRemovedTasks, isReplicatedTask, type ReplicatedInput } from "./replicated/reconcile.js";
export { GlobalOrchestrator, type GlobalOrchestratorOptions } from "./global/orchestrator.js";
export { planGlobal, isGlobalTask, type GlobalInput } from "./global/reconcile.js";
export { JobOrchestrator, type JobOrchestratorOptions } from "./jobs/orchestrator.js";
export { planJob, slotState as jobSlotState, type JobInput, type JobDecision } from "./jobs/reconcile.js";
export {
  MAX_JOB_RUNS,
  emptyJobStatus,
  startJobRun,
  jobStatusOnCreate,
  jobStatusOnUpdate,
  settleJobRuns,
  runningIterations,
  type RunResult,
} from "./jobs/job-runs.js";
export { jobProgress, jobProgressText, type JobProgress } from "./jobs/progress.js";
export { RestartSupervisor, type RestartSupervisorOptions } from "./restart/supervisor.js";
export {
  planRestarts,
  type RestartInput,
  type RestartSlot,
  type RestartDecision,
  type SlotWake,
} from "./restart/reconcile.js";
export {
  DEFAULT_RESTART_DELAY_MS,
  resolveRestartPolicy,
  taskRestartPolicy,
  shouldRestart,
  countRestarts,
  conditionAllows,
  type ResolvedRestartPolicy,
} from "./restart/policy.js";
export { Updater, type UpdaterOptions } from "./update/updater.js";
export { planUpdate, messages as updateMessages, type UpdateInput, type UpdateDecision } from "./update/reconcile.js";
export {
  DEFAULT_MONITOR_MS,
  resolveUpdateConfig,
  rolloutConfig,
  isRollingOut,
  type ResolvedUpdateConfig,
} from "./update/config.js";
export { stoppedForUpdate, hasStopped, extraRunnable } from "./update/replacement.js";
export { rebalanceRefusal, remainingMoves, startRebalance, isRebalancing } from "./rebalance/start.js";
export { planRebalanceRollout, rebalanceMessages, rebalanceRollout, rebalanceState } from "./rebalance/rollout.js";
export { isMovingOff } from "./rebalance/moving-off.js";
export {
  AutoRebalancer,
  DEFAULT_REBALANCE_COOLDOWN_MS,
  type AutoRebalancerOptions,
} from "./rebalance/auto-rebalancer.js";
export { TaskReaper, type TaskReaperOptions } from "./reaper/task-reaper.js";
export { DEFAULT_TASK_HISTORY_LIMIT, historyLimit, historyToKeep, planHistory, removable } from "./reaper/reconcile.js";
export {
  newTask,
  desiredReplicas,
  isGlobalService,
  isJobService,
  isPerNode,
  jobIteration,
  replicatedJobCounts,
  serviceSpecVersion,
  isUpToDate,
  INITIAL_TASK_STATE,
  type TaskTarget,
} from "./task-factory.js";
export {
  isLive,
  hasEnded,
  isRunnable,
  isRemoved,
  isFinished,
  slotOf,
  slotKey,
  iterationOf,
  type SlotRef,
} from "./task-states.js";
export { matchEveryNode, nodeLost, acceptsNewTask, keepsTask, type NodeMatcher } from "./node-checks.js";
export { Plan, commitPlan, applyOps, DEFAULT_MAX_WRITES_PER_TX, type Op, type CreateGuard } from "./plan.js";
export { JobCron, MAX_SLEEP_MS, type JobCronOptions } from "./cron/job-cron.js";
export { planTick, dueTick, currentRunRunning, isScheduledJob, lastTickOf, rescheduled } from "./cron/reconcile.js";
