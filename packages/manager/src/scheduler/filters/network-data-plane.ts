// A task that joins networks runs only on a node whose agent drives its host's network data plane
// (NodeDescription.network_data_plane): on a host shared by several agents, only one does.
import type { Task } from "@shoal/shared";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class NetworkDataPlaneFilter implements Filter {
  readonly name = "network-data-plane";
  readonly dynamic = false;

  setTask(task: Task): boolean {
    return task.networks.length > 0;
  }

  check(node: NodeInfo): boolean {
    return node.node?.description?.networkDataPlane === true;
  }

  explain(nodesRejected: number): string {
    return `no network data plane ${onNodes(nodesRejected)}`;
  }
}
