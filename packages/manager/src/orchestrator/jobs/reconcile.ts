// The job orchestrator's decisions for one job, as a pure function (after SwarmKit's
// orchestrator/jobs): which tasks to start for the current run, which tasks of older runs to shut
// down, and how each run still RUNNING stands.
//
// A job's tasks carry the iteration (the run) they were made for, and each run has its own slots
// (task-states.ts): a replicated job's slots 1..total_completions, a global job's nodes. A slot
// of a run is, from its history (oldest first, removed tasks left out):
// - complete: a task of it completed (exit 0). Never run again;
// - active: its latest task is live (pending, running, or ended and not shut down yet), or it
//   ended and the restart policy allows a successor (the restart supervisor makes it, after the
//   delay, in the same slot);
// - failed: its latest task failed (or was rejected, or orphaned) and the policy gives up;
// - stopped: its latest task was shut down before it ended (a global job's node drained).
// Current run (the service's job_iteration):
// - replicated: new tasks in the lowest free slots, as many as max_concurrent allows beside the
//   active slots and total_completions allows beside the complete and active ones; none once a
//   slot failed. SUCCEEDED when total_completions slots are complete; FAILED when a slot failed
//   and no slot is active any more.
// - global: a new task on every node that accepts one (up, ACTIVE, constraints met) and has no
//   slot in this run, nodes that join later included; live tasks on nodes that no longer keep
//   them (gone, drained, constraints no longer met) are shut down. SUCCEEDED when no slot is
//   active or failed and at least one completed; FAILED when a slot failed and none is active.
// Older runs: their live tasks are shut down, unless the schedule's overlap is ALLOW: then they
// are left to finish (the restart supervisor gives them no successor). A run left to finish
// ends, once no slot is active, SUCCEEDED if all it needed completed, else FAILED if a task
// failed, else REPLACED.
import { JobRunOutcome, ScheduleOverlap, TaskState, type Node, type Service, type Task } from "@shoal/shared";
import { acceptsNewTask, keepsTask, type NodeMatcher } from "../node-checks.js";
import { Plan } from "../plan.js";
import { shouldRestart } from "../restart/policy.js";
import { isPerNode, jobIteration, newTask, replicatedJobCounts } from "../task-factory.js";
import { hasEnded, history, isLive, isRemoved, iterationOf, statusState } from "../task-states.js";
import { runningIterations, type RunResult } from "./job-runs.js";

export interface JobInput {
  readonly service: Service;
  /** Every task of the service. */
  readonly tasks: readonly Task[];
  /** Global jobs: every node in the store. */
  readonly nodes?: ReadonlyMap<string, Node> | undefined;
  readonly nodeMatches: NodeMatcher;
  readonly now: number;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

export interface JobDecision {
  readonly plan: Plan;
  /** How each run still RUNNING stands, by iteration. */
  readonly results: Map<number, RunResult>;
}

type SlotState = "complete" | "active" | "failed" | "stopped";

const FAILED_STATES = new Set([TaskState.FAILED, TaskState.REJECTED, TaskState.ORPHANED]);

/** The state of one slot of a run, from its tasks (see the top of the file). */
export function slotState(tasks: readonly Task[]): SlotState {
  const hist = history(tasks);
  if (hist.some((t) => statusState(t) === TaskState.COMPLETE)) return "complete";
  const latest = hist[hist.length - 1];
  if (latest === undefined) return "stopped";
  if (isLive(latest)) return "active";
  if (hasEnded(latest) && shouldRestart(latest, hist)) return "active";
  return FAILED_STATES.has(statusState(latest)) ? "failed" : "stopped";
}

/** A slot of an older run: it gets no successor, so it is active only while a task is live. */
function oldSlotState(tasks: readonly Task[]): SlotState {
  if (tasks.some(isLive)) return "active";
  return tasks.some((t) => statusState(t) === TaskState.COMPLETE) ? "complete" : "stopped";
}

interface RunView {
  /** Slot key (slot number or node id) -> tasks, removed ones left out. */
  readonly slots: Map<string, Task[]>;
  /** Tasks of the run that failed (every attempt). */
  failedTasks: number;
}

function viewRuns(tasks: readonly Task[], perNode: boolean): Map<number, RunView> {
  const runs = new Map<number, RunView>();
  for (const t of tasks) {
    const iteration = iterationOf(t);
    if (iteration === undefined || isRemoved(t)) continue;
    let run = runs.get(iteration);
    if (run === undefined) runs.set(iteration, (run = { slots: new Map(), failedTasks: 0 }));
    const key = perNode ? t.nodeId : String(t.slot);
    const slot = run.slots.get(key);
    if (slot === undefined) run.slots.set(key, [t]);
    else slot.push(t);
    if (FAILED_STATES.has(statusState(t))) run.failedTasks++;
  }
  return runs;
}

function count(states: Iterable<SlotState>): Record<SlotState, number> {
  const c = { complete: 0, active: 0, failed: 0, stopped: 0 };
  for (const s of states) c[s]++;
  return c;
}

export function planJob(input: JobInput): JobDecision {
  const { service } = input;
  const plan = new Plan();
  const results = new Map<number, RunResult>();
  const perNode = isPerNode(service);
  const current = jobIteration(service);
  const runs = viewRuns(input.tasks, perNode);
  const allow = service.spec?.schedule?.overlap === ScheduleOverlap.ALLOW;
  const running = new Set(runningIterations(service));

  for (const [iteration, run] of runs) {
    if (iteration === current) continue;
    if (!allow) {
      for (const tasks of run.slots.values())
        for (const t of tasks) if (isLive(t)) plan.raise(t.id, TaskState.SHUTDOWN);
    }
    if (!running.has(iteration)) continue;
    const c = count([...run.slots.values()].map(oldSlotState));
    if (allow && c.active > 0) continue;
    const needed = perNode ? run.slots.size : (replicatedJobCounts(service.spec)?.total ?? 1);
    const outcome =
      c.complete >= needed && c.complete > 0
        ? JobRunOutcome.SUCCEEDED
        : run.failedTasks > 0
          ? JobRunOutcome.FAILED
          : JobRunOutcome.REPLACED;
    results.set(iteration, { outcome, succeeded: c.complete, failed: run.failedTasks });
  }
  // A run that started but has no task yet (a run replaced at once, say) has no view.
  for (const iteration of running) {
    if (iteration !== current && !runs.has(iteration)) {
      results.set(iteration, { outcome: JobRunOutcome.REPLACED, succeeded: 0, failed: 0 });
    }
  }
  if (current === 0) return { plan, results };

  const run = runs.get(current) ?? { slots: new Map<string, Task[]>(), failedTasks: 0 };
  const result = perNode ? planGlobalRun(input, run, plan) : planReplicatedRun(input, run, plan);
  results.set(current, result);
  return { plan, results };
}

function planReplicatedRun(input: JobInput, run: RunView, plan: Plan): RunResult {
  const { service } = input;
  const { total, maxConcurrent } = replicatedJobCounts(service.spec) ?? { total: 1, maxConcurrent: 1 };
  const c = count([...run.slots.values()].map(slotState));
  const result = (outcome: JobRunOutcome): RunResult => ({ outcome, succeeded: c.complete, failed: run.failedTasks });
  if (c.complete >= total) return result(JobRunOutcome.SUCCEEDED);
  if (c.failed > 0) return result(c.active > 0 ? JobRunOutcome.RUNNING : JobRunOutcome.FAILED);
  let start = Math.min(maxConcurrent - c.active, total - c.complete - c.active - c.stopped);
  for (let slot = 1; start > 0 && slot <= total; slot++) {
    if (run.slots.has(String(slot))) continue;
    plan.create(newTask(service, { slot }, input.now, input.newId?.()), "empty-slot");
    start--;
  }
  return result(JobRunOutcome.RUNNING);
}

function planGlobalRun(input: JobInput, run: RunView, plan: Plan): RunResult {
  const { service } = input;
  const spec = service.spec?.taskTemplate;
  const nodes = input.nodes ?? new Map<string, Node>();
  const states: SlotState[] = [];
  for (const [nodeId, tasks] of run.slots) {
    if (!keepsTask(nodes.get(nodeId), spec, input.nodeMatches)) {
      for (const t of tasks) if (isLive(t)) plan.raise(t.id, TaskState.SHUTDOWN);
      if (tasks.some((t) => statusState(t) === TaskState.COMPLETE)) states.push("complete");
      continue;
    }
    states.push(slotState(tasks));
  }
  for (const [nodeId, node] of nodes) {
    if (run.slots.has(nodeId) || !acceptsNewTask(node, spec, input.nodeMatches)) continue;
    plan.create(newTask(service, { nodeId }, input.now, input.newId?.()), "empty-slot");
    states.push("active");
  }
  const c = count(states);
  const outcome =
    c.active > 0 || c.complete + c.failed === 0
      ? JobRunOutcome.RUNNING
      : c.failed > 0
        ? JobRunOutcome.FAILED
        : JobRunOutcome.SUCCEEDED;
  return { outcome, succeeded: c.complete, failed: run.failedTasks };
}
