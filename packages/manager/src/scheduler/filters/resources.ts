// Reservations: the task's reserved nano CPUs (or memory) must fit in the node's capacity minus
// what the tasks it holds reserve. One filter per resource, so the reason names the one missing.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export type ResourceKind = "cpu" | "memory";

export class ResourceFilter implements Filter {
  readonly name: ResourceKind;
  readonly dynamic = true;
  private wanted = 0;

  constructor(readonly kind: ResourceKind) {
    this.name = kind;
  }

  setTask(task: Task): boolean {
    const r = task.spec?.resources?.reservations;
    this.wanted = (this.kind === "cpu" ? r?.nanoCpus : r?.memoryBytes) ?? 0;
    return this.wanted > 0;
  }

  check(node: NodeInfo): boolean {
    return this.wanted <= (this.kind === "cpu" ? node.availableCpus : node.availableMemory);
  }

  explain(nodesRejected: number): string {
    return `insufficient ${this.kind === "cpu" ? "CPU" : "memory"} ${onNodes(nodesRejected)}`;
  }
}
