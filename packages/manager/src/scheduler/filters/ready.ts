// Only a node with a live session takes tasks: status READY (not UNKNOWN, DOWN or DISCONNECTED).
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class ReadyFilter implements Filter {
  readonly name = "ready";
  readonly dynamic = false;

  setTask(_task: Task): boolean {
    return true;
  }

  check(node: NodeInfo): boolean {
    return node.ready;
  }

  explain(nodesRejected: number): string {
    return `node not ready ${onNodes(nodesRejected)}`;
  }
}
