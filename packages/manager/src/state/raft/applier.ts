// What a Ready hands the driver to apply, applied: a snapshot from the leader replaces the state
// machine and the members; committed entries go to the state machine in order (each resolves its
// proposal, when proposed here), or change the membership (a conf change, which the RawNode applies
// too). Entries at or below the applied index (a restart replays them) are skipped.
import { InternalRaftRequest, RaftSnapshotData, type Logger } from "@shoal/shared";
import { decodeConfChange, type ConfState, type Entry, type RawNode, type Snapshot } from "@shoal/raft";
import type { AppliedIndex } from "./applied-index.js";
import type { MemberSet } from "./member-set.js";
import type { PeerLiveness } from "./peer-liveness.js";
import type { ProposalQueue } from "./proposal-queue.js";
import type { Snapshotter } from "./snapshotter.js";
import type { StateMachine } from "./state-machine.js";

export interface ApplierOptions {
  readonly self: number;
  readonly logger: Logger;
  readonly stateMachine: StateMachine;
  readonly applied: AppliedIndex;
  readonly members: MemberSet;
  readonly proposals: ProposalQueue;
  readonly snapshotter: Snapshotter;
  readonly liveness: PeerLiveness;
  /** This member was removed from the group (called in a microtask). */
  readonly onRemoved?: (() => void) | undefined;
}

export class Applier {
  private conf: ConfState = { voters: [] };

  constructor(private readonly options: ApplierOptions) {}

  /** The voters, as of the last entry or snapshot applied. */
  get confState(): ConfState {
    return this.conf;
  }

  installSnapshot(snapshot: Snapshot): void {
    const { index } = snapshot.metadata;
    const data = RaftSnapshotData.decode(snapshot.data);
    this.options.members.replace(data.members);
    this.conf = { voters: [...snapshot.metadata.confState.voters] };
    this.options.stateMachine.restore(data.store, index);
    this.options.applied.set(index);
    this.options.snapshotter.installed(index);
    this.options.logger.info({ index, members: data.members.length }, "installed snapshot");
  }

  applyEntries(node: Pick<RawNode, "applyConfChange">, entries: readonly Entry[]): void {
    const { applied, proposals, stateMachine } = this.options;
    for (const entry of entries) {
      if (entry.index <= applied.value) continue;
      let request: InternalRaftRequest | undefined;
      if (entry.type === "confChange") this.applyConfChange(node, entry);
      else if (entry.data.length > 0) {
        request = InternalRaftRequest.decode(entry.data);
        stateMachine.apply(entry.index, request);
      }
      applied.set(entry.index);
      if (request) proposals.applied(request.id, entry.index);
    }
  }

  private applyConfChange(node: Pick<RawNode, "applyConfChange">, entry: Entry): void {
    const { self, logger } = this.options;
    const cc = decodeConfChange(entry.data);
    this.conf = node.applyConfChange(cc);
    this.options.members.applyConfChange(cc);
    if (cc.type === "removeNode") this.options.liveness.forget(cc.nodeId);
    logger.info({ change: cc.type, member: cc.nodeId, voters: this.conf.voters }, "membership changed");
    this.options.proposals.confChangeApplied(cc, entry.index);
    if (cc.type === "removeNode" && cc.nodeId === self) {
      logger.warn("this manager was removed from the cluster");
      const onRemoved = this.options.onRemoved;
      if (onRemoved) queueMicrotask(() => onRemoved());
    }
  }
}
