// Starting a rebalance (RebalanceService, or the automatic rebalancer): when it may run, and its
// first write. The moves come from the scheduler (planRebalance); the rebalance status lists the
// tasks to move, and the updater carries them out (./rollout.ts).
import { UpdateState, type Node, type Service, type Task } from "@shoal/shared";
import { planRebalance } from "../../scheduler/index.js";
import type { WriteTx } from "../../state/store/index.js";
import { serviceName } from "../task-factory.js";
import { isLive } from "../task-states.js";
import { isPaused, isRollingOut, updateState } from "../update/config.js";
import { movingOffIds } from "./moving-off.js";
import { rebalanceState, updateInTheWay } from "./rollout.js";

/** Why the service cannot be rebalanced now (a sentence for the user), or undefined. */
export function rebalanceRefusal(service: Service, tasks: readonly Task[]): string | undefined {
  const name = serviceName(service);
  const mode = service.spec?.mode?.$case;
  if (mode === "global")
    return `service ${name} is global: it runs one task on every node, there is nothing to rebalance`;
  if (mode === "replicatedJob" || mode === "globalJob") {
    return `service ${name} is a job: its tasks run to completion, there is nothing to rebalance`;
  }
  if (isRollingOut(updateState(service))) {
    return `service ${name} is being updated (${service.updateStatus?.message ?? "update in progress"}); rebalance it once the update is done`;
  }
  if (updateInTheWay(service, tasks)) {
    const why = isPaused(updateState(service)) ? "its update is paused" : "its update is not finished";
    return `service ${name} still runs tasks of an older spec (${why}): update it (shoal service update) or roll it back first`;
  }
  return undefined;
}

/** Tasks a rebalance under way still has to move (listed and still wanted). */
export function remainingMoves(service: Service, tasks: readonly Task[]): number {
  const ids = movingOffIds(service);
  return tasks.filter((t) => ids.has(t.id) && isLive(t)).length;
}

/** Every node and task, read once for several services. */
export interface ClusterView {
  readonly nodes: readonly Node[];
  readonly tasks: readonly Task[];
}

/**
 * Plans a rebalance of `service` from the state `tx` sees (or `cluster`, read from it) and starts
 * it: rebalance status UPDATING with the tasks to move. Writes nothing when nothing has to move.
 * Returns how many move.
 */
export function startRebalance(
  tx: WriteTx,
  service: Service,
  now: number,
  message: (n: number) => string,
  cluster: ClusterView = { nodes: tx.nodes.find(), tasks: tx.tasks.find() },
): number {
  const moves = planRebalance(cluster.nodes, cluster.tasks, service.id, now);
  if (moves.length === 0) return 0;
  tx.services.update({
    ...service,
    rebalanceStatus: {
      state: UpdateState.UPDATING,
      startedAt: new Date(now),
      completedAt: undefined,
      message: message(moves.length),
      moved: 0,
      taskIds: moves.map((m) => m.taskId),
    },
  });
  return moves.length;
}

/** Whether a rebalance is under way (moving tasks, or finishing the ones it started). */
export function isRebalancing(service: Service): boolean {
  return rebalanceState(service) === UpdateState.UPDATING;
}
