// On stop, a leader hands leadership to the most up-to-date other member first, so that the
// cluster does not wait out an election timeout. It comes after the Raft node in the manager's
// list, so that it stops before the dispatcher and the leader's components do.
import type { Component } from "../../lifecycle/component.js";
import type { RaftNode } from "./raft-node.js";

export class LeadershipHandover implements Component {
  readonly name = "leadership-handover";
  private handedOver: Promise<void> | undefined;

  constructor(private readonly raft: { readonly node: RaftNode | undefined }) {}

  run(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.handedOver ??= (async () => {
      const node = this.raft.node;
      if (node?.isLeader) await node.transferLeadership().catch(() => false);
    })();
    return this.handedOver;
  }
}
