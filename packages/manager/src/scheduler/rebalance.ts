// Rebalancing: which tasks of a replicated service to move so that its spread is the one the
// scheduler would choose now (moby/moby#24103: Swarm leaves tasks where they are when nodes join
// or come back). The scheduler's own pipeline answers, one task at a time, on a copy of the
// cluster as the scheduler sees it (a NodeSet):
//
// 1. Take one task of the service off its node (a node holding the most tasks of the service
//    first) and ask the pipeline where a new task of the service would go (the filters, then the
//    spread, exactly as a placement: constraints, max replicas per node, resources, ports,
//    placement preferences).
// 2. It is a move when the pipeline picks another node and that node is better for the spread,
//    not merely a tie-break: it holds fewer tasks of the service where the spread first tells the
//    two nodes apart (SpreadStrategy.fewerThan), or the task's node no longer passes the filters
//    (a constraint on a label that changed). The copy then holds the task on its new node, and
//    the search starts again; else the task goes back and the next node is tried.
// 3. It ends when no task can move. Each move makes the spread strictly better, so it ends.
//
// A task on a node that is not ready, or paused or drained, is not moved here: down and drained
// nodes are the restart supervisor's, and a paused node keeps its tasks (as in Swarm). Only tasks
// placed and wanted count (ASSIGNED to RUNNING, desired RUNNING); a task still waiting for a node
// is the scheduler's to place.
import { TaskState, type Node, type Task } from "@shoal/shared";
import { defaultFilters } from "./filters/index.js";
import { NodeSet } from "./node-set.js";
import { genericWants } from "./generic-pool.js";
import { claimOn, startGroup } from "./pipeline.js";
import { occupancy, taskUsage } from "./task-rules.js";

export interface RebalanceMove {
  readonly taskId: string;
  readonly from: string;
  /** Where the scheduler would place its replacement now. */
  readonly to: string;
}

/**
 * The moves that make `serviceId`'s spread the scheduler's, given every node and every task of the
 * cluster (`now` lets recent failures count, as in a placement). Empty when the spread is right.
 */
export function planRebalance(
  nodes: readonly Node[],
  tasks: readonly Task[],
  serviceId: string,
  now?: number,
): RebalanceMove[] {
  const set = NodeSet.from(nodes, tasks);
  // The service's tasks that hold a node, by node; the highest slot of a node moves first.
  const byNode = new Map<string, Task[]>();
  for (const t of tasks) {
    if (t.serviceId !== serviceId || t.slot === 0 || occupancy(t) !== "active") continue;
    if (t.desiredState !== TaskState.RUNNING) continue;
    const list = byNode.get(t.nodeId);
    if (list === undefined) byNode.set(t.nodeId, [t]);
    else list.push(t);
  }
  for (const list of byNode.values()) list.sort((a, b) => a.slot - b.slot || (a.id < b.id ? -1 : 1));
  const moves: RebalanceMove[] = [];
  const total = [...byNode.values()].reduce((n, l) => n + l.length, 0);
  while (moves.length < total) {
    const move = nextMove(set, byNode, now, moves.length);
    if (move === undefined) break;
    moves.push(move);
  }
  return moves;
}

/** The next move, already made on `set` and `byNode`; undefined when none is left. */
function nextMove(
  set: NodeSet,
  byNode: Map<string, Task[]>,
  now: number | undefined,
  n: number,
): RebalanceMove | undefined {
  const sources = [...byNode.entries()]
    .filter(([, list]) => list.length > 0)
    .sort(([a, la], [b, lb]) => lb.length - la.length || (a < b ? -1 : a > b ? 1 : 0));
  for (const [from, list] of sources) {
    const info = set.get(from);
    if (info === undefined || !info.ready || !info.active) continue;
    const task = list[list.length - 1]!;
    set.deleteTask(task.id);
    const probe: Task = { ...task, id: `${task.id}.rebalance-${n}`, nodeId: "" };
    let to: string | undefined;
    try {
      const { active, strategy } = startGroup(set, defaultFilters(), probe, now);
      const best = strategy.best();
      const stays = active.every((f) => f.check(info));
      if (best !== undefined && best.info.id !== from && (!stays || strategy.fewerThan(best.info, info))) {
        to = best.info.id;
      }
    } catch {
      to = undefined; // a spec the scheduler cannot place: nothing to move
    }
    if (to === undefined) {
      set.setTask(task);
      continue;
    }
    const wants = genericWants(task.spec?.resources?.reservations?.generic);
    set.hold(probe.id, to, claimOn(set.get(to)!, taskUsage(task), wants));
    list.pop();
    return { taskId: task.id, from, to };
  }
  return undefined;
}
