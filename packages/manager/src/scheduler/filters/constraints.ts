// Placement constraints of the task: node.id, node.hostname, node.role, node.platform.os/arch,
// node.labels.KEY and engine.labels.KEY, with == and != (see ../constraints.ts).
import type { Task } from "@shoal/shared";
import { constraintsMatch, parseConstraints, type Constraint } from "../constraints.js";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class ConstraintFilter implements Filter {
  readonly name = "constraints";
  readonly dynamic = false;
  private constraints: Constraint[] = [];

  /** Throws InvalidArgumentError if a constraint does not parse. */
  setTask(task: Task): boolean {
    this.constraints = parseConstraints(task.spec?.placement?.constraints ?? []);
    return this.constraints.length > 0;
  }

  check(node: NodeInfo): boolean {
    return constraintsMatch(this.constraints, node.attrs);
  }

  explain(nodesRejected: number): string {
    return `scheduling constraints not satisfied ${onNodes(nodesRejected)}`;
  }
}
