// placement.platforms: a task that lists platforms runs only on a node of one of them. An empty
// os or architecture matches any; architectures are compared as Docker compares them (x86_64 is
// amd64, aarch64 is arm64), case-insensitively as the constraints on node.platform.*.
import type { PlacementPlatform, Task } from "@shoal/shared";
import { platformsMatch } from "../constraints.js";
import type { NodeInfo } from "../node-info.js";
import { onNodes, type Filter } from "./filter.js";

export class PlatformFilter implements Filter {
  readonly name = "platforms";
  readonly dynamic = false;
  private platforms: readonly PlacementPlatform[] = [];

  setTask(task: Task): boolean {
    this.platforms = task.spec?.placement?.platforms ?? [];
    return this.platforms.length > 0;
  }

  check(node: NodeInfo): boolean {
    return platformsMatch(this.platforms, node.attrs);
  }

  explain(nodesRejected: number): string {
    return `unsupported platform ${onNodes(nodesRejected)}`;
  }
}
