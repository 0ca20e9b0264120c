// The leader's manager-nodes component: keeps a node in the store for each manager of the Raft
// group, with role manager and its ManagerStatus as this leader sees the group (planManagerNodes),
// and carries out demotions. It passes on node changes and every `pollMs`, since who is reachable
// and who is a member are not in the store. A cluster from before managers were nodes gets its
// managers' nodes at the first pass of its first leader.
//
// Demotion (a member whose node's desired role became worker): the leader removes the member from
// the group with a configuration change, once the managers that stay keep a reachable majority
// (quorumRefusal, checked again here: UpdateNode checked it when it was asked). A leader being
// demoted hands leadership over first; the next leader removes it. The node stays, a worker, with
// the agent beside it and its tasks.
import {
  componentLogger,
  errorMessage,
  type Clock,
  type Logger,
  type RaftMemberStatus,
  type Timer,
} from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore } from "../state/store/index.js";
import { pendingDemotions, planManagerNodes, quorumRefusal } from "./manager-node.js";

export const DEFAULT_MANAGER_NODES_POLL_MS = 1_000;

/** The leader's view of the Raft group, and the changes this component makes to it. */
export interface ManagerNodesRaft {
  /** The members with leader and reachability (memberStatuses). */
  statuses(): RaftMemberStatus[];
  /** This manager's raft id. */
  readonly raftId: number;
  removeMember(raftId: number): Promise<void>;
  /** Resolves true once another member leads. */
  transferLeadership(): Promise<boolean>;
}

export interface ManagerNodesOptions {
  readonly store: MemoryStore;
  readonly raft: ManagerNodesRaft;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pollMs?: number | undefined;
}

export class ManagerNodes {
  private readonly logger: Logger;
  private readonly loop: ReconcileLoop;
  private dirty = false;
  private poll: Timer | undefined;
  private refused = "";

  constructor(private readonly options: ManagerNodesOptions) {
    this.logger = componentLogger(options.logger, "manager-nodes");
    this.loop = new ReconcileLoop(
      {
        tables: ["nodes"],
        reset: () => void (this.dirty = true),
        observe: () => void (this.dirty = true),
        hasWork: () => this.dirty,
        pass: () => this.pass(),
        stopped: () => this.poll?.cancel(),
      },
      { store: options.store, clock: options.clock, logger: this.logger, debounceMs: 20, maxDelayMs: 200 },
    );
  }

  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  stop(): Promise<void> {
    this.poll?.cancel();
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    this.dirty = false;
    this.poll?.cancel();
    this.poll = this.options.clock.setTimeout(() => {
      this.dirty = true;
      this.loop.kick();
    }, this.options.pollMs ?? DEFAULT_MANAGER_NODES_POLL_MS);
    const { store, raft } = this.options;
    const members = raft.statuses();
    const plan = store.view((tx) => planManagerNodes(tx.nodes.find(), members));
    if (plan.create.length > 0 || plan.update.length > 0) {
      await store.update((tx) => {
        // Planned again on the transaction's state: an agent may have registered meanwhile.
        const again = planManagerNodes(tx.nodes.find(), members);
        for (const node of again.create) tx.nodes.create(node);
        for (const node of again.update) tx.nodes.update(node);
      });
      for (const node of plan.create) this.logger.info({ nodeId: node.id }, "manager node created");
    }
    await this.demote(members);
  }

  /** One demotion at a time (Raft changes membership one member at a time). */
  private async demote(members: RaftMemberStatus[]): Promise<void> {
    const { store, raft } = this.options;
    const demoted = pendingDemotions(
      store.view((tx) => tx.nodes.find()),
      members,
    )[0];
    if (!demoted?.member) return;
    const { raftId, nodeId } = demoted.member;
    if (raftId === raft.raftId) {
      this.logger.info({ nodeId }, "demoted: handing leadership over before leaving the Raft group");
      const handed = await raft.transferLeadership().catch(() => false);
      if (!handed) this.logger.warn({ nodeId }, "leadership not handed over yet; trying again");
      return;
    }
    const refusal = quorumRefusal(members, [raftId]);
    if (refusal !== undefined) {
      if (refusal !== this.refused) this.logger.warn({ nodeId, reason: refusal }, "demotion waits");
      this.refused = refusal;
      return;
    }
    this.refused = "";
    try {
      await raft.removeMember(raftId);
      this.logger.info({ nodeId, raftId: raftId.toString(16) }, "demoted manager removed from the Raft group");
    } catch (err: unknown) {
      this.logger.warn({ nodeId, err: errorMessage(err) }, "could not remove the demoted manager; trying again");
    }
    this.dirty = true;
    this.loop.kick();
  }
}
