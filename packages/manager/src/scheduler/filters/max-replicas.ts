// placement.max_replicas_per_node: at most that many active tasks of the service on one node.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class MaxReplicasFilter implements Filter {
  readonly name = "max-replicas";
  readonly dynamic = true;
  private serviceId = "";
  private max = 0;

  setTask(task: Task): boolean {
    this.serviceId = task.serviceId;
    this.max = task.spec?.placement?.maxReplicasPerNode ?? 0;
    return this.max > 0;
  }

  check(node: NodeInfo): boolean {
    return node.serviceTasks(this.serviceId) < this.max;
  }

  explain(nodesRejected: number): string {
    return `max replicas per node reached ${onNodes(nodesRejected)}`;
  }
}
