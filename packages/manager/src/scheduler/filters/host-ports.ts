// A host-mode published port can be bound by one task per node: a node where another task that
// still holds its resources publishes the same port and protocol is out.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { hostPorts } from "../task-rules.js";
import { onNodes, type Filter } from "./filter.js";

export class HostPortFilter implements Filter {
  readonly name = "host-ports";
  readonly dynamic = true;
  private ports: number[] = [];

  setTask(task: Task): boolean {
    this.ports = hostPorts(task);
    return this.ports.length > 0;
  }

  check(node: NodeInfo): boolean {
    for (const port of this.ports) if (node.portInUse(port)) return false;
    return true;
  }

  explain(nodesRejected: number): string {
    return `host-mode published port already in use ${onNodes(nodesRejected)}`;
  }
}
