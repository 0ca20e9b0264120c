// The scheduling pass: pending tasks in, a node for each (or the reason there is none) out.
// Pure: same nodes, tasks and `now` give the same placement. See README.md for the picture.
//
// 1. Preassigned tasks (global services name their node) are checked against their node alone.
// 2. The other tasks are grouped by service and scheduling spec (task-rules.ts: groupKey). For each
//    group, every filter that applies is asked about every node once; a node is blamed on the
//    first filter that refuses it. The nodes left are the candidates of the spread strategy.
// 3. The group's tasks go one by one to the strategy's best node; the NodeInfo of that node takes
//    the task, and the dynamic filters (resources, ports, replicas) are asked again about that node
//    alone: a node that is now full leaves the candidates and is blamed on the filter that said so.
// 4. Tasks left when no candidate remains are unplaced, with the reason built from the blame counts.
import { errorMessage, type GenericResource, type Node, type Task } from "@shoal/shared";
import { parsePlacementPreferences } from "./constraints.js";
import { defaultFilters, type Filter } from "./filters/index.js";
import { genericWants, type GenericWant } from "./generic-pool.js";
import { hashString, type NodeInfo } from "./node-info.js";
import { NodeSet } from "./node-set.js";
import { SpreadStrategy } from "./strategy/spread.js";
import { groupKey, taskUsage, type TaskUsage } from "./task-rules.js";

export interface ScheduleResult {
  /** Task id -> node id. */
  readonly assignments: Map<string, string>;
  /** Task id -> why no node fits, e.g. "no suitable node (insufficient memory on 2 nodes)". */
  readonly unplaced: Map<string, string>;
  /** Task id -> the generic resources it is given on its node (only tasks that reserve some). */
  readonly generic: Map<string, GenericResource[]>;
}

/**
 * Places `pending` tasks on `nodes`, given the tasks already on nodes (any state: the pipeline
 * counts those that hold their node; see task-rules.ts). `now` (ms) lets recent failures of a
 * service on a node push that node back; without it failures are ignored.
 */
export function scheduleBatch(
  nodes: readonly Node[],
  tasksOnNodes: readonly Task[],
  pending: readonly Task[],
  now?: number,
): ScheduleResult {
  const set = NodeSet.from(nodes, tasksOnNodes, new Set(pending.map((t) => t.id)));
  return placeTasks(set, pending, now);
}

/**
 * `scheduleBatch` on a NodeSet the caller keeps: the set takes every placement made (as an
 * active task on its node), so the caller can carry on from it, or take back the ones it could
 * not write (`NodeSet.deleteTask`).
 */
export function placeTasks(set: NodeSet, pending: readonly Task[], now?: number): ScheduleResult {
  const result: ScheduleResult = { assignments: new Map(), unplaced: new Map(), generic: new Map() };
  const filters = defaultFilters();
  const preassigned: Task[] = [];
  const groups = new Map<string, Task[]>();
  for (const task of pending) {
    if (task.nodeId !== "") {
      preassigned.push(task);
      continue;
    }
    const key = groupKey(task);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [task]);
    else group.push(task);
  }
  preassigned.sort(byId);
  for (const task of preassigned) placePreassigned(set, filters, task, result);
  const keys = [...groups.keys()].sort();
  for (const key of keys) {
    const tasks = groups.get(key)!;
    tasks.sort(bySlotThenId);
    placeGroup(set, filters, tasks, now, result);
  }
  return result;
}

function placePreassigned(set: NodeSet, filters: readonly Filter[], task: Task, result: ScheduleResult): void {
  const info = set.get(task.nodeId);
  if (info === undefined) {
    result.unplaced.set(task.id, `no suitable node (node ${task.nodeId} not found)`);
    return;
  }
  let active: Filter[];
  try {
    active = filters.filter((f) => f.setTask(task));
  } catch (err: unknown) {
    result.unplaced.set(task.id, `invalid placement: ${errorMessage(err)}`);
    return;
  }
  const failed = active.find((f) => !f.check(info));
  if (failed !== undefined) {
    result.unplaced.set(task.id, `no suitable node (${failed.explain(1)})`);
    return;
  }
  hold(set, task.id, info, taskUsage(task), genericWants(task.spec?.resources?.reservations?.generic), result);
}

/**
 * Holds a task placed on `info`: with `base` as its usage, plus the generic resources it wants,
 * claimed there (the filters let only a node with enough of them through). Records the placement.
 */
function hold(
  set: NodeSet,
  taskId: string,
  info: NodeInfo,
  base: TaskUsage,
  wants: readonly GenericWant[],
  result: ScheduleResult,
): void {
  const usage = claimOn(info, base, wants);
  set.hold(taskId, info.id, usage);
  result.assignments.set(taskId, info.id);
  if (wants.length > 0) result.generic.set(taskId, [...usage.generic]);
}

/** `base` with the generic resources `wants` claims on `info` (base itself when it wants none). */
export function claimOn(info: NodeInfo, base: TaskUsage, wants: readonly GenericWant[]): TaskUsage {
  if (wants.length === 0) return base;
  return { ...base, generic: info.generic.claim(wants) ?? [] };
}

/**
 * What placing a task of `first`'s group starts from: the filters that apply to it, the nodes they
 * let through (the spread's candidates) and, for each filter, how many nodes it was the first to
 * refuse. Throws InvalidArgumentError for a spec that cannot be scheduled (a malformed constraint).
 */
export interface GroupStart {
  readonly active: Filter[];
  readonly blamed: number[];
  readonly nodes: number;
  readonly strategy: SpreadStrategy;
}

export function startGroup(set: NodeSet, filters: readonly Filter[], first: Task, now: number | undefined): GroupStart {
  const active = filters.filter((f) => f.setTask(first));
  const spread = parsePlacementPreferences(first.spec?.placement?.preferences ?? []);
  const blamed = new Array<number>(active.length).fill(0);
  const candidates: NodeInfo[] = [];
  let nodes = 0;
  for (const info of set.nodes()) {
    nodes++;
    const i = active.findIndex((f) => !f.check(info));
    if (i < 0) candidates.push(info);
    else blamed[i]!++;
  }
  const strategy = new SpreadStrategy({
    serviceId: first.serviceId,
    spread,
    seed: hashString(first.id),
    candidates,
    nodes: set.nodes(),
    now,
  });
  return { active, blamed, nodes, strategy };
}

/** Places tasks with the same service and scheduling spec, sorted. */
function placeGroup(
  set: NodeSet,
  filters: readonly Filter[],
  tasks: readonly Task[],
  now: number | undefined,
  result: ScheduleResult,
): void {
  const first = tasks[0]!;
  let start: GroupStart;
  try {
    start = startGroup(set, filters, first, now);
  } catch (err: unknown) {
    const reason = `invalid placement: ${errorMessage(err)}`;
    for (const t of tasks) result.unplaced.set(t.id, reason);
    return;
  }
  const { active, blamed, nodes, strategy } = start;
  const dynamic = active.flatMap((f, i) => (f.dynamic ? [i] : []));
  const usage = taskUsage(first);
  const wants = genericWants(first.spec?.resources?.reservations?.generic);
  let reason: string | undefined;
  for (const task of tasks) {
    const c = strategy.best();
    if (c === undefined) {
      reason ??= explain(active, blamed, nodes);
      result.unplaced.set(task.id, reason);
      continue;
    }
    hold(set, task.id, c.info, usage, wants, result);
    let refused = -1;
    for (const i of dynamic) {
      if (!active[i]!.check(c.info)) {
        refused = i;
        break;
      }
    }
    strategy.placed(c, refused < 0);
    if (refused >= 0) blamed[refused]!++;
  }
}

/** "no suitable node (node not ready on 1 node, insufficient memory on 2 nodes)" */
export function explain(filters: readonly Filter[], blamed: readonly number[], nodes: number): string {
  if (nodes === 0) return "no suitable node (no nodes in the cluster)";
  const parts: string[] = [];
  filters.forEach((f, i) => {
    const n = blamed[i] ?? 0;
    if (n > 0) parts.push(f.explain(n));
  });
  return `no suitable node (${parts.join(", ")})`;
}

function byId(a: Task, b: Task): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function bySlotThenId(a: Task, b: Task): number {
  return a.slot - b.slot || byId(a, b);
}
