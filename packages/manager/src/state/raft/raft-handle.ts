// This manager's place in the Raft group, for the parts that are served before its Raft node runs
// (the transport and membership handlers, the dispatcher, the auth interceptor, the store's
// proposer): the node once started (none before: each of them copes), the Join call in progress
// and the members it learnt. As a component it sits early in the manager's list although the node
// starts late (RaftStart): stopping the node here comes after everything that uses it has stopped.
import {
  ErrorCode,
  ShoalError,
  type AuditRecord,
  type JoinResponse,
  type RaftMember,
  type StoreAction,
} from "@shoal/shared";
import type { Component } from "../../lifecycle/component.js";
import type { Proposer } from "../store/index.js";
import { isRaftPeer } from "./raft-peer-policy.js";
import type { RaftNode } from "./raft-node.js";

export class RaftHandle implements Component {
  readonly name = "raft";
  private current: RaftNode | undefined;
  private joiningNow = false;
  private joinedMembers: readonly RaftMember[] = [];

  /** The started node; undefined before. */
  get node(): RaftNode | undefined {
    return this.current;
  }

  /** The started node, or Unavailable. */
  requireNode(): RaftNode {
    if (!this.current) throw new ShoalError(ErrorCode.Unavailable, "this manager has not started raft yet");
    return this.current;
  }

  /** Records the node once it runs. */
  started(node: RaftNode): void {
    this.current = node;
  }

  /** Runs the Join call; while it is out any manager is heard; its members are heard until admitted. */
  async joining(join: () => Promise<JoinResponse>): Promise<JoinResponse> {
    this.joiningNow = true;
    try {
      const joined = await join();
      this.joinedMembers = joined.members;
      return joined;
    } finally {
      this.joiningNow = false;
    }
  }

  /** Whether manager `nodeId` may speak Raft to this one (see raft-peer-policy.ts). */
  isRaftMember(nodeId: string): boolean {
    const node = this.current;
    return isRaftPeer(nodeId, {
      joining: this.joiningNow,
      started: node !== undefined,
      admitting: node?.admitting ?? false,
      members: node?.memberList() ?? [],
      joinedMembers: this.joinedMembers,
    });
  }

  get isLeader(): boolean {
    return this.current?.isLeader ?? false;
  }

  /** The leader's raft id (0: none known); undefined before the node runs. */
  get leaderId(): number | undefined {
    return this.current?.leaderId;
  }

  leaderAddr(): string | undefined {
    return this.current?.leaderAddr();
  }

  /** The group's members; none before the node runs. */
  members(): RaftMember[] {
    return this.current?.memberList() ?? [];
  }

  /** The store's proposer: through the node, Unavailable before it runs. */
  proposer(): Proposer {
    return {
      propose: async (actions: StoreAction[], signal?: AbortSignal, audit?: AuditRecord[]) => ({
        index: await this.requireNode().propose(actions, signal, audit),
      }),
    };
  }

  /** Nothing to start: RaftStart starts the node later. */
  run(): Promise<void> {
    return Promise.resolve();
  }

  /** Stops the node (idempotent: RaftNode.stop is). */
  async stop(): Promise<void> {
    await this.current?.stop();
  }
}
