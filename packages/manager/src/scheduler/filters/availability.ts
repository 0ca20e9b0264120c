// Only an ACTIVE node takes new tasks: PAUSE keeps what it runs, DRAIN moves it away.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class AvailabilityFilter implements Filter {
  readonly name = "availability";
  readonly dynamic = false;

  setTask(_task: Task): boolean {
    return true;
  }

  check(node: NodeInfo): boolean {
    return node.active;
  }

  explain(nodesRejected: number): string {
    return `node paused or drained ${onNodes(nodesRejected)}`;
  }
}
