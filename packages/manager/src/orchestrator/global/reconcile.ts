// The global orchestrator's decisions for one service, as a pure function: one task per eligible
// node. A global service's slots are its nodes; its tasks carry slot 0 and their node id.
//
// For each node looked at:
// - the node is gone, drained, or no longer meets the constraints: every task of the service on
//   it gets desired state REMOVE (the agent stops it, the reaper deletes it once ended). REMOVE
//   rather than SHUTDOWN, as for a replicated scale-down: the node's slot is left empty, so the
//   task comes back when the node is eligible again (and the restart supervisor, which only acts
//   on slots with history, leaves it alone meanwhile);
// - the node keeps its task (it exists, is not drained, meets the constraints; a paused or DOWN
//   node keeps it too: a DOWN node may still run it, cut off from us): one runnable task at most
//   (extras are shut down, keeping the most advanced one), or two while the updater replaces it
//   start-first (see update/replacement.ts);
// - the node's slot is empty and the node accepts new tasks (not DOWN, ACTIVE, constraints
//   met): a new task naming that node (status NEW: the scheduler checks it fits there and
//   assigns it).
// A slot with history but no live task (a task that ended) belongs to the restart supervisor.
// Tasks of the service with a slot number (left from a replicated mode) are the replicated
// orchestrator's; a service that is gone, or became replicated, has its global tasks removed. A
// global job's tasks are the job orchestrator's (jobs/) while the job exists.
import { TaskState, type Node, type Service, type Task } from "@shoal/shared";
import { acceptsNewTask, keepsTask, type NodeMatcher } from "../node-checks.js";
import { Plan } from "../plan.js";
import { isGlobalService, isJobService, newTask } from "../task-factory.js";
import { history, isRemoved } from "../task-states.js";
import { extraRunnable } from "../update/replacement.js";

export interface GlobalInput {
  readonly service: Service | undefined;
  /** The nodes to look at, with the node object (undefined: the node is gone). */
  readonly nodes: Iterable<readonly [string, Node | undefined]>;
  /** The service's tasks on those nodes (others are ignored). */
  readonly tasks: readonly Task[];
  readonly nodeMatches: NodeMatcher;
  readonly now: number;
  /** Makes ids for new tasks (tests make them predictable). */
  readonly newId?: (() => string) | undefined;
}

/** Whether the global orchestrator owns `t` (a task without a slot number). */
export function isGlobalTask(t: Task): boolean {
  return t.slot === 0;
}

export function planGlobal(input: GlobalInput, plan: Plan = new Plan()): Plan {
  const { service } = input;
  const own = input.tasks.filter(isGlobalTask);
  if (service !== undefined && isJobService(service)) return plan; // the job orchestrator's (jobs/)
  if (service === undefined || !isGlobalService(service)) {
    for (const t of own) if (!isRemoved(t)) plan.raise(t.id, TaskState.REMOVE);
    return plan;
  }
  const spec = service.spec?.taskTemplate;
  const byNode = new Map<string, Task[]>();
  for (const t of own) {
    if (isRemoved(t)) continue;
    const list = byNode.get(t.nodeId);
    if (list === undefined) byNode.set(t.nodeId, [t]);
    else list.push(t);
  }
  for (const [nodeId, node] of input.nodes) {
    const tasks = history(byNode.get(nodeId) ?? []);
    if (nodeId === "" || !keepsTask(node, spec, input.nodeMatches)) {
      for (const t of tasks) plan.raise(t.id, TaskState.REMOVE);
      continue;
    }
    if (tasks.length > 0) {
      for (const extra of extraRunnable(tasks, service)) plan.raise(extra.id, TaskState.SHUTDOWN);
      continue;
    }
    if (acceptsNewTask(node, spec, input.nodeMatches)) {
      plan.create(newTask(service, { nodeId }, input.now, input.newId?.()), "empty-slot");
    }
  }
  return plan;
}
