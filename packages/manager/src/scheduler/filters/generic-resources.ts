// Generic resources (GPUs, ...): every count the task reserves must fit in what the node
// advertises of that kind minus what the tasks it holds were given (generic-pool.ts).
import type { Task } from "@shoal/shared";
import { genericWants, type GenericWant } from "../generic-pool.js";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class GenericResourceFilter implements Filter {
  readonly name = "generic-resources";
  readonly dynamic = true;
  private wants: GenericWant[] = [];

  setTask(task: Task): boolean {
    this.wants = genericWants(task.spec?.resources?.reservations?.generic);
    return this.wants.length > 0;
  }

  check(node: NodeInfo): boolean {
    return node.generic.fits(this.wants);
  }

  /** "insufficient generic resource gpu on 2 nodes" (every kind the task asks for). */
  explain(nodesRejected: number): string {
    const kinds = this.wants.map((w) => w.kind).join(", ");
    return `insufficient generic resource${this.wants.length === 1 ? "" : "s"} ${kinds} ${onNodes(nodesRejected)}`;
  }
}
