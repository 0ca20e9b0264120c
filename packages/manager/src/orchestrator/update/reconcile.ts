// The updater's decisions for one service, as a pure function: which slots to replace now, and
// what becomes of the rollout (its update status).
//
// A task is up to date when it runs the service's current task definition (task-factory.ts); a
// slot whose runnable task is not is outdated. Each slot is, in the store alone:
// - outdated: its runnable task is old. A candidate for the next slots;
// - in flight: being replaced. Stop-first: the old task was shut down (see replacement.ts) and
//   the new one is made once the old one stopped. Start-first: the new task is made next to the
//   old one, and the old one shut down once the new one runs. A slot stays in flight until its
//   new task is RUNNING, its old ones have stopped and `delay` has passed since the new task
//   started running (its store time: meta.updatedAt of a running task);
// - monitored: its new task has run for less than `monitor`;
// - done, or not the updater's business (its task ended: the restart supervisor makes its
//   successor, from the current spec).
// At most `parallelism` slots are in flight; new ones are taken while the rollout is under way
// (UPDATING, ROLLBACK_STARTED), slots not running first, then by slot number (or node id).
// Slots already in flight are finished whatever the state, so a pause never leaves a slot empty.
//
// Failures: tasks of the current spec version that ended on their own (any end but SHUTDOWN)
// before running or within `monitor` after they started. When failures exceed
// max_failure_ratio of the service's slots, failure_action applies: pause (PAUSED, or
// ROLLBACK_PAUSED during a rollback), continue, or rollback (spec := previous_spec,
// previous_spec := the failed spec, spec version + 1, ROLLBACK_STARTED; a rollback that fails
// pauses). How long an ended task ran is what the updater saw (`ranFor`); for an end it did not
// see (a new leader) it takes the task's whole life (last write minus creation) as an upper
// bound, so only certain failures count.
//
// When no slot is outdated, in flight or monitored, the rollout is COMPLETED (or
// ROLLBACK_COMPLETED). A service with outdated tasks but no rollout under way, and not paused
// (no status yet: made by an older manager, say), starts one (UPDATING).
import { TaskState, UpdateFailureAction, UpdateOrder, type Node, type Service, type Task } from "@shoal/shared";
import { acceptsNewTask, type NodeMatcher } from "../node-checks.js";
import { Plan } from "../plan.js";
import { isGlobalService, isJobService, newTask, type TaskTarget } from "../task-factory.js";
import {
  compareCreation,
  createdAt,
  groupBySlot,
  hasEnded,
  history,
  isLive,
  isRemoved,
  isRunnable,
  statusState,
  updatedAt,
  type SlotRef,
} from "../task-states.js";
import { shouldRestart } from "../restart/policy.js";
import { isPaused, isRollingOut, type ResolvedUpdateConfig } from "./config.js";
import { byAdvancement, hasStopped, stoppedForUpdate } from "./replacement.js";
import { updateRollout, type Rollout } from "./rollout.js";

export { messages } from "./rollout.js";

export interface UpdateInput {
  readonly service: Service;
  /** Every task of the service. */
  readonly tasks: readonly Task[];
  readonly node: (id: string) => Node | undefined;
  /** Placement constraints of global services. */
  readonly nodeMatches: NodeMatcher;
  readonly now: number;
  /** How long a task the updater saw end had run, in ms (-1: it never ran); undefined if not seen. */
  readonly ranFor?: ((taskId: string) => number | undefined) | undefined;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

export interface UpdateDecision {
  readonly plan: Plan;
  /** The service to write (new update status, or rolled back), if it changes. */
  readonly service: Service | undefined;
  /** When to look again (ms): the end of a delay or of a monitor period. */
  readonly wakeAt: number | undefined;
  /** Whether the service still has rollout work: task events concern the updater. */
  readonly busy: boolean;
}

/**
 * The updater's decision for one service: an update or rollback by default, or another kind of
 * rollout (a rebalance) that follows the same rules with its own status and idea of "current".
 */
export function planUpdate(input: UpdateInput, rollout: Rollout = updateRollout): UpdateDecision {
  // Jobs have no rollout: a change starts a new run instead (jobs/).
  if (isJobService(input.service)) return { plan: new Plan(), service: undefined, wakeAt: undefined, busy: false };
  let service = input.service;
  let changed: Service | undefined;
  const now = input.now;
  const state = rollout.state(service);

  if (isRollingOut(state)) {
    const failure = checkFailures(input, service, rollout);
    if (failure !== undefined) {
      changed = service = rollout.fail(service, failure.taskId, now);
    }
  }
  const plan = new Plan();
  const view = slots(input, service, plan, rollout);
  let current = rollout.state(service);

  if (!isRollingOut(current) && !isPaused(current) && view.candidates.length > 0) {
    const started = rollout.start(service, now);
    if (started !== undefined) {
      changed = service = started;
      current = rollout.state(service);
    }
  }
  let wakeAt: number | undefined;
  if (isRollingOut(current)) {
    const config = rollout.config(service);
    const room = config.parallelism - view.inFlight;
    for (const c of view.candidates.slice(0, Math.max(0, room))) replaceSlot(input, service, config, c, plan);
    const started = Math.min(view.candidates.length, Math.max(0, room));
    const done = view.candidates.length === 0 && view.inFlight === 0 && view.waiting === 0;
    if (done && view.monitorEnds === undefined && changed === undefined) {
      changed = service = rollout.complete(service, now);
    } else if (started === 0) {
      wakeAt = minOf(view.delayEnds, view.monitorEnds);
    } else {
      wakeAt = view.monitorEnds;
    }
  }
  const busy = view.inFlight > 0 || plan.size > 0 || isRollingOut(rollout.state(service));
  return { plan, service: changed, wakeAt, busy };
}

interface Candidate {
  readonly ref: SlotRef;
  /** Its runnable tasks that are not up to date, the most advanced first. */
  readonly stale: Task[];
}

interface SlotsView {
  readonly candidates: Candidate[];
  /** Slots being replaced, or whose delay has not passed. */
  readonly inFlight: number;
  /** The first end of a delay, and of a monitor period, after now. */
  readonly delayEnds: number | undefined;
  readonly monitorEnds: number | undefined;
  /** Outdated slots whose task ended, waiting for the restart supervisor's successor. */
  readonly waiting: number;
}

/** Looks at every slot; finishes the replacements in flight (into `plan`). */
function slots(input: UpdateInput, service: Service, plan: Plan, rollout: Rollout): SlotsView {
  const config = rollout.config(service);
  const global = isGlobalService(service);
  const rollingOut = isRollingOut(rollout.state(service));
  const upToDate = (t: Task): boolean => rollout.isCurrent(t, service);
  const own = ownTasks(input.tasks, global, rollingOut, upToDate);
  const candidates: Candidate[] = [];
  let inFlight = 0;
  let waiting = 0;
  let delayEnds: number | undefined;
  let monitorEnds: number | undefined;
  for (const { ref, tasks } of groupBySlot(own).values()) {
    const hist = history(tasks);
    if (hist.length === 0) continue;
    const live = hist.filter(isLive);
    const fresh = live.filter(upToDate);
    const stale = live.filter((t) => !upToDate(t));
    const stopping = hist.some((t) => !isLive(t) && !hasStopped(t, input.node));

    if (fresh.length > 0) {
      const cur = fresh.filter(isRunnable).sort(byAdvancement)[0];
      const running = cur !== undefined && statusState(cur) === TaskState.RUNNING;
      if (stale.length > 0) {
        // Start-first: the old task goes once the new one runs.
        if (running) for (const t of stale) plan.raise(t.id, TaskState.SHUTDOWN);
        inFlight++;
        continue;
      }
      if (stopping) {
        inFlight++;
        continue;
      }
      if (cur === undefined) continue; // ended: the restart supervisor's
      if (!running) {
        // A replacement on its way counts against the rollout's parallelism. Outside a rollout a
        // new task starting is the replicated orchestrator's, not this one's: counting it kept
        // the service busy, and every task event of a 100,000-replica creation re-read all its
        // slots here.
        if (rollingOut) inFlight++;
        continue;
      }
      if (!rollingOut) continue;
      const since = updatedAt(cur);
      if (since + config.delayMs > input.now) {
        inFlight++;
        delayEnds = minOf(delayEnds, since + config.delayMs);
      }
      if (since + config.monitorMs > input.now) monitorEnds = minOf(monitorEnds, since + config.monitorMs);
      continue;
    }
    if (stale.length > 0) {
      const runnable = stale.filter(isRunnable).sort(byAdvancement);
      if (runnable.length > 0) {
        if (canPlace(input, service, ref)) candidates.push({ ref, stale: runnable });
      } else if (restarts(stale[stale.length - 1]!, hist)) {
        waiting++; // an old task that ended: the restart supervisor makes its successor
      }
      continue;
    }
    // No live task: a stop-first replacement waiting for its old task to stop?
    const latest = hist[hist.length - 1]!;
    if (!stoppedForUpdate(latest)) {
      if (!upToDate(latest) && restarts(latest, hist)) waiting++;
      continue;
    }
    inFlight++;
    if (hasStopped(latest, input.node) && canPlace(input, service, ref)) {
      plan.replace(newTask(service, target(ref), input.now, input.newId?.()), latest.id);
    }
  }
  candidates.sort(candidateOrder);
  return { candidates, inFlight, waiting, delayEnds, monitorEnds };
}

/**
 * The service's tasks of the slots `slots` looks at: outside a rollout, only those of slots that
 * hold a task that is outdated or no longer live. A slot whose tasks are all live and up to date
 * has nothing to replace or finish, and counts for nothing outside a rollout; at 100,000 slots,
 * grouping them all on every pass was most of the updater's work.
 */
function ownTasks(
  tasks: readonly Task[],
  global: boolean,
  rollingOut: boolean,
  upToDate: (t: Task) => boolean,
): readonly Task[] {
  const own = tasks.filter((t) => (global ? t.slot === 0 : t.slot > 0));
  if (rollingOut) return own;
  const slotOfTask = (t: Task): string | number => (global ? t.nodeId : t.slot);
  const marked = new Set<string | number>();
  for (const t of own) if (!isRemoved(t) && !(isLive(t) && upToDate(t))) marked.add(slotOfTask(t));
  return marked.size === 0 ? [] : own.filter((t) => marked.has(slotOfTask(t)));
}

/** Whether the restart supervisor gives `t`, which ended, a successor (its policy allows one). */
function restarts(t: Task, slotTasks: readonly Task[]): boolean {
  return shouldRestart(t, slotTasks);
}

/** Starts replacing one outdated slot. */
function replaceSlot(
  input: UpdateInput,
  service: Service,
  config: ResolvedUpdateConfig,
  c: Candidate,
  plan: Plan,
): void {
  const old = c.stale[0]!;
  const task = newTask(service, target(c.ref), input.now, input.newId?.());
  // Start-first only makes sense for a task that holds a node; one never placed simply goes.
  if (config.order === UpdateOrder.START_FIRST && statusState(old) >= TaskState.ASSIGNED && c.stale.length === 1) {
    plan.replace(task, old.id);
    return;
  }
  for (const t of c.stale) plan.raise(t.id, TaskState.SHUTDOWN);
  if (c.stale.every((t) => hasStopped(t, input.node))) {
    plan.replace(task, c.stale[c.stale.length - 1]!.id);
  }
}

interface Failure {
  readonly taskId: string;
}

/** The failure that tips the rollout over max_failure_ratio, if any (see the top of the file). */
function checkFailures(input: UpdateInput, service: Service, rollout: Rollout): Failure | undefined {
  const config = rollout.config(service);
  if (config.failureAction === UpdateFailureAction.CONTINUE) return undefined;
  const global = isGlobalService(service);
  const slots = new Set<string>();
  const failed: Task[] = [];
  for (const t of input.tasks) {
    if ((global ? t.slot !== 0 : t.slot === 0) || isRemoved(t)) continue;
    slots.add(global ? t.nodeId : String(t.slot));
    if (!rollout.madeBy(t, service) || !hasEnded(t) || statusState(t) === TaskState.SHUTDOWN) continue;
    const ran = input.ranFor?.(t.id) ?? (statusState(t) === TaskState.REJECTED ? -1 : updatedAt(t) - createdAt(t));
    if (ran < config.monitorMs) failed.push(t);
  }
  if (failed.length === 0 || failed.length <= config.maxFailureRatio * slots.size) return undefined;
  failed.sort((a, b) => updatedAt(a) - updatedAt(b) || compareCreation(a, b));
  return { taskId: failed[failed.length - 1]!.id };
}

function canPlace(input: UpdateInput, service: Service, ref: SlotRef): boolean {
  if (ref.nodeId === undefined) return true;
  return acceptsNewTask(input.node(ref.nodeId), service.spec?.taskTemplate, input.nodeMatches);
}

function target(ref: SlotRef): TaskTarget {
  return ref.nodeId !== undefined ? { nodeId: ref.nodeId } : { slot: ref.slot };
}

/** Slots whose old task does not run first (nothing is lost replacing them), then in order. */
function candidateOrder(a: Candidate, b: Candidate): number {
  const ra = statusState(a.stale[0]!) === TaskState.RUNNING ? 1 : 0;
  const rb = statusState(b.stale[0]!) === TaskState.RUNNING ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (a.ref.slot !== undefined && b.ref.slot !== undefined) return a.ref.slot - b.ref.slot;
  const na = a.ref.nodeId ?? "";
  const nb = b.ref.nodeId ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function minOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
