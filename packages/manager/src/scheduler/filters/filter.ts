// A feasibility filter: one question about a node ("is it ready?", "is there memory left?"),
// asked for one task (or a group of tasks with the same scheduling spec) at a time.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";

export interface Filter {
  /** Short stable name, for logs and tests. */
  readonly name: string;
  /**
   * Whether placing a task on a node can change this filter's verdict on that node (resources,
   * ports, replicas per node): the pipeline asks it again about a node after each placement there.
   * Static filters (readiness, constraints) are asked once per node and task group.
   */
  readonly dynamic: boolean;
  /**
   * Sets the task the next checks are for. Returns false if the filter does not apply to it (no
   * reservation, no constraint...): then the pipeline skips it. May throw InvalidArgumentError for a
   * task whose spec cannot be scheduled at all (a malformed constraint).
   */
  setTask(task: Task): boolean;
  /** Whether the node may take the task. */
  check(node: NodeInfo): boolean;
  /** Why it rejected `nodesRejected` nodes, e.g. "insufficient memory on 2 nodes". */
  explain(nodesRejected: number): string;
}

/** "1 node", "3 nodes" */
export function onNodes(n: number): string {
  return `on ${n} node${n === 1 ? "" : "s"}`;
}
