// What `service update` and `service rollback` show while they follow a rollout, as Docker's CLI
// does: one line per slot (per node for a global service) with the state of the task running the
// service's current spec, the overall count, and the outcome. Pure: service and tasks in, view out.
import {
  HealthState,
  TaskSpec,
  TaskState,
  UpdateState,
  EndpointSpec,
  shortId,
  type Service,
  type Task,
  type UpdateStatus,
} from "@shoal/shared";
import { taskStateName } from "./json.js";

/** The stages a new task goes through, for the progress bar. */
const STAGES = [
  TaskState.NEW,
  TaskState.PENDING,
  TaskState.ASSIGNED,
  TaskState.ACCEPTED,
  TaskState.PREPARING,
  TaskState.STARTING,
  TaskState.RUNNING,
];

export type RolloutOutcome =
  /** Still going (or not started yet). */
  | "following"
  /** Every slot runs the current spec and no rollout is in progress. */
  | "converged"
  | "paused"
  | "rolled-back"
  | "rollback-paused";

export interface SlotProgress {
  /** "3" for slot 3; a short node id for a global service. */
  readonly key: string;
  /** The state of the slot's task on the current spec; "" while the slot still runs the old one. */
  readonly state: string;
  /** 0 to 1: how far that task is towards running (and healthy). */
  readonly fraction: number;
  readonly done: boolean;
  readonly error: string;
}

export interface RolloutProgress {
  readonly slots: readonly SlotProgress[];
  readonly done: number;
  readonly total: number;
  /** The service's update status when it belongs to this rollout (see `isNewStatus`). */
  readonly status: UpdateStatus | undefined;
  readonly outcome: RolloutOutcome;
  /** The error of the last task that failed during this rollout ("" if none), to say why it stopped. */
  readonly lastFailure: string;
}

/** True when `current` is another rollout's status than `before` (the one read before the request). */
export function isNewStatus(before: UpdateStatus | undefined, current: UpdateStatus | undefined): boolean {
  if (current === undefined || current.state === UpdateState.UNKNOWN) return false;
  if (before === undefined) return true;
  return (
    before.state !== current.state ||
    before.startedAt?.getTime() !== current.startedAt?.getTime() ||
    before.message !== current.message
  );
}

const bytes = (spec: TaskSpec | undefined): string =>
  Buffer.from(TaskSpec.encode(spec ?? TaskSpec.fromPartial({})).finish()).toString("hex");
const endpointBytes = (e: EndpointSpec | undefined): string =>
  Buffer.from(EndpointSpec.encode(e ?? EndpointSpec.fromPartial({})).finish()).toString("hex");

/** Whether a task runs the service's current spec: same spec version, or the very same spec. */
export function runsCurrentSpec(service: Service, task: Task): boolean {
  if ((task.specVersion?.index ?? -1) === (service.specVersion?.index ?? -2)) return true;
  return (
    bytes(task.spec) === bytes(service.spec?.taskTemplate) &&
    endpointBytes(task.endpoint) === endpointBytes(service.spec?.endpoint)
  );
}

/** Running, and healthy where the container has a health check. */
export function isUp(task: Task): boolean {
  const health = task.status?.health;
  return (
    task.status?.state === TaskState.RUNNING && health !== HealthState.STARTING && health !== HealthState.UNHEALTHY
  );
}

function slotProgress(key: string, service: Service, tasks: readonly Task[]): SlotProgress {
  const newest = (list: readonly Task[]): Task | undefined =>
    [...list].sort((a, b) => (b.meta?.createdAt?.getTime() ?? 0) - (a.meta?.createdAt?.getTime() ?? 0))[0];
  const current = tasks.filter((t) => runsCurrentSpec(service, t));
  const live = current.filter((t) => t.desiredState <= TaskState.RUNNING);
  // A task stopped on purpose (SHUTDOWN) says nothing about the new spec; one that failed does.
  const failed = current.filter((t) => t.status?.state !== TaskState.SHUTDOWN);
  const task = newest(live.filter(isUp)) ?? newest(live) ?? newest(failed);
  if (task === undefined) return { key, state: "", fraction: 0, done: false, error: "" };
  const state = task.status?.state ?? TaskState.NEW;
  const done = task.desiredState <= TaskState.RUNNING && isUp(task);
  const stage = STAGES.indexOf(state);
  const healthWait = state === TaskState.RUNNING && !done;
  return {
    key,
    state: healthWait
      ? `running (${task.status?.health === HealthState.UNHEALTHY ? "unhealthy" : "health: starting"})`
      : taskStateName(state),
    fraction: done ? 1 : stage === -1 ? 0 : Math.min(stage, STAGES.length - 2) / (STAGES.length - 1),
    done,
    error: task.status?.err ?? "",
  };
}

/** The service as it was read before the update or rollback was sent. */
export interface Baseline {
  readonly status: UpdateStatus | undefined;
  /** Its spec version: tasks of later versions are this rollout's. */
  readonly specVersion: number;
}

/** The slots of the service and how far each is on the current spec. */
export function rolloutProgress(
  service: Service,
  tasks: readonly Task[],
  baseline: Baseline,
  mode: "update" | "rollback",
): RolloutProgress {
  const mine = tasks.filter((t) => t.serviceId === service.id);
  const groups = new Map<string, Task[]>();
  const serviceMode = service.spec?.mode;
  const global = serviceMode?.$case === "global";
  if (global) {
    for (const t of mine) if (t.desiredState <= TaskState.RUNNING && t.nodeId) groups.set(t.nodeId, []);
    for (const t of mine) groups.get(t.nodeId)?.push(t);
  } else {
    const replicas = serviceMode?.$case === "replicated" ? serviceMode.value.replicas : 1;
    for (let slot = 1; slot <= replicas; slot++) groups.set(String(slot), []);
    for (const t of mine) groups.get(String(t.slot))?.push(t);
  }
  const slots = [...groups].map(([key, list]) => slotProgress(global ? shortId(key) : key, service, list));
  const done = slots.filter((s) => s.done).length;
  const status = isNewStatus(baseline.status, service.updateStatus) ? service.updateStatus : undefined;
  const converged = done === slots.length;
  let outcome: RolloutOutcome = "following";
  switch (status?.state) {
    case UpdateState.PAUSED:
      outcome = "paused";
      break;
    case UpdateState.ROLLBACK_PAUSED:
      outcome = "rollback-paused";
      break;
    case UpdateState.ROLLBACK_COMPLETED:
      if (converged) outcome = mode === "rollback" ? "converged" : "rolled-back";
      break;
    case UpdateState.UPDATING:
    case UpdateState.ROLLBACK_STARTED:
      break; // the manager is still watching the last batch
    default:
      if (converged) outcome = "converged";
  }
  return { slots, done, total: slots.length, status, outcome, lastFailure: lastFailure(mine, baseline.specVersion) };
}

/** The task of this rollout (a spec version after the baseline's) that failed last, with its error. */
function lastFailure(tasks: readonly Task[], specVersionBefore: number): string {
  const failed = tasks
    .filter(
      (t) =>
        (t.specVersion?.index ?? 0) > specVersionBefore &&
        (t.status?.state ?? 0) >= TaskState.FAILED &&
        (t.status?.err ?? "") !== "",
    )
    .sort((a, b) => (b.status?.timestamp?.getTime() ?? 0) - (a.status?.timestamp?.getTime() ?? 0))[0];
  return failed ? `${failed.status!.err} (task ${failed.id})` : "";
}

const BAR_WIDTH = 50;

function bar(fraction: number): string {
  const filled = Math.round(fraction * BAR_WIDTH);
  if (filled >= BAR_WIDTH) return `[${"=".repeat(BAR_WIDTH - 1)}>]`;
  return `[${"=".repeat(filled)}>${" ".repeat(BAR_WIDTH - filled - 1)}]`;
}

/** "1/6: running   [=====>     ]" per slot, as Docker prints them. */
export function slotLines(progress: RolloutProgress): string[] {
  // A fixed width, so that a line is printed again only when its own slot changes.
  const width = "preparing".length;
  const n = progress.total;
  return progress.slots.map((s) => {
    const label = /^\d+$/.test(s.key) ? `${s.key}/${n}` : s.key;
    const prefix = `${label}: `.padEnd(`${n}/${n}: `.length);
    if (s.state === "") return prefix.trimEnd();
    const err = s.error !== "" && !s.done ? ` ${s.error}` : "";
    return `${prefix}${s.state.padEnd(width)} ${bar(s.fraction)}${err}`;
  });
}

export function overallLine(progress: RolloutProgress): string {
  return `overall progress: ${progress.done} out of ${progress.total} tasks`;
}
