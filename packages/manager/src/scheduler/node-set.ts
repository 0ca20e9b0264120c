// The nodes of the cluster as the scheduler sees them, kept from node and task changes. The pure
// pipeline builds one per pass; the Scheduler component keeps one for its whole run and feeds it
// store events, so a pass never has to read every task again.
import type { Node, Task } from "@shoal/shared";
import { NodeInfo } from "./node-info.js";
import { isFailure, occupancy, taskUsage, type TaskUsage } from "./task-rules.js";

export class NodeSet {
  private readonly infos = new Map<string, NodeInfo>();
  /** The node each held task is on (to move or remove it). */
  private readonly taskNode = new Map<string, string>();

  /** Nodes known to the store, in insertion order. */
  *nodes(): IterableIterator<NodeInfo> {
    for (const info of this.infos.values()) if (info.node !== undefined) yield info;
  }

  get(nodeId: string): NodeInfo | undefined {
    const info = this.infos.get(nodeId);
    return info?.node === undefined ? undefined : info;
  }

  /** Adds or updates a node. */
  setNode(node: Node): void {
    const info = this.infos.get(node.id);
    if (info === undefined) this.infos.set(node.id, new NodeInfo(node.id, node));
    else info.setNode(node);
  }

  /** Forgets a node; the tasks that still name it stay counted until they go too. */
  deleteNode(nodeId: string): void {
    const info = this.infos.get(nodeId);
    if (info === undefined) return;
    if (info.taskCount === 0) this.infos.delete(nodeId);
    else info.setNode(undefined);
  }

  /**
   * Takes a task as the store now has it: held on its node (see occupancy), or not. Records a
   * failure of its service on its node. `usage` lets tasks placed together share one.
   * Returns whether what a node holds changed (tasks, reservations, ports).
   */
  setTask(task: Task, usage?: TaskUsage): boolean {
    if (isFailure(task)) {
      const at = task.status?.timestamp?.getTime();
      if (at !== undefined) this.get(task.nodeId)?.recordFailure(task.serviceId, task.id, at);
    }
    const occ = occupancy(task);
    if (occ === "none") return this.deleteTask(task.id);
    return this.hold(task.id, task.nodeId, usage ?? taskUsage(task), occ === "active");
  }

  /** Counts a task on `nodeId` (a placement of this pass, or a held task). Returns true if it changed anything. */
  hold(taskId: string, nodeId: string, usage: TaskUsage, active = true): boolean {
    const prev = this.taskNode.get(taskId);
    const moved = prev !== undefined && prev !== nodeId && this.deleteTask(taskId);
    this.taskNode.set(taskId, nodeId);
    return this.info(nodeId).addTask(taskId, usage, active) || moved;
  }

  /** Forgets a task. Returns whether a node held it. */
  deleteTask(taskId: string): boolean {
    const nodeId = this.taskNode.get(taskId);
    if (nodeId === undefined) return false;
    this.taskNode.delete(taskId);
    const info = this.infos.get(nodeId);
    if (info === undefined) return false;
    info.removeTask(taskId);
    if (info.node === undefined && info.taskCount === 0) this.infos.delete(nodeId);
    return true;
  }

  private info(nodeId: string): NodeInfo {
    let info = this.infos.get(nodeId);
    if (info === undefined) this.infos.set(nodeId, (info = new NodeInfo(nodeId)));
    return info;
  }

  /** Builds a set from arrays (the pure pipeline's input). */
  static from(nodes: readonly Node[], tasks: Iterable<Task>, skip?: ReadonlySet<string>): NodeSet {
    const set = new NodeSet();
    for (const node of nodes) set.setNode(node);
    for (const task of tasks) if (skip === undefined || !skip.has(task.id)) set.setTask(task);
    return set;
  }
}
