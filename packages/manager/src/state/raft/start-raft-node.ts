// Makes this manager's Raft node and starts it (opens its disk, joins the group's traffic).
import type { Clock } from "@shoal/shared";
import { RaftNode, type RaftNodeOptions } from "./raft-node.js";

export interface StartRaftNodeOptions extends RaftNodeOptions {
  /** Time for the node's ticks and timeouts; default the system clock. */
  readonly clock?: Clock;
}

/** Resolves with the started node. */
export async function startRaftNode(options: StartRaftNodeOptions): Promise<RaftNode> {
  const node = new RaftNode(options);
  await node.start();
  return node;
}
