// Starts this manager's Raft node, once the server listens: a data dir that holds a member
// restarts it; otherwise the manager joins the cluster it was given (--join) or founds a new one,
// and records its raft id. The node goes to the RaftHandle, which stops it.
import { join as joinPath } from "node:path";
import { componentLogger, errorMessage, type Clock, type Logger, type TlsMaterial } from "@shoal/shared";
import type { RaftKeys } from "../../encryption/index.js";
import { saveIdentity, type ManagerIdentity } from "../../identity.js";
import type { Component } from "../../lifecycle/component.js";
import { joinCluster } from "./join-cluster.js";
import type { RaftHandle } from "./raft-handle.js";
import type { RaftNodeOptions, StateMachine } from "./raft-node.js";
import { newRaftId } from "./raft-server.js";
import { startRaftNode } from "./start-raft-node.js";

/** Raft settings of the manager's options. */
export interface RaftTuning {
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly snapshotInterval?: number;
  readonly sync?: boolean;
}

export interface RaftStartOptions {
  /** Where the started node goes. */
  readonly handle: RaftHandle;
  readonly dataDir: string;
  /** The identity as loaded from the data dir (raft id 0: not a member yet). */
  readonly identity: { readonly loaded: ManagerIdentity };
  readonly credentials: { readonly material: TlsMaterial; readonly nodeId: string; readonly clusterId: string };
  readonly listener: { readonly advertise: string };
  readonly unlock: { readonly keys: RaftKeys };
  readonly stateMachine: StateMachine;
  /** A manager of the cluster to join, when not a member yet. */
  readonly join?: string | undefined;
  readonly forceNewCluster?: boolean | undefined;
  readonly raft?: RaftTuning | undefined;
  readonly onLeadership: (isLeader: boolean) => void;
  /** The cluster's snapshot interval where its Raft config sets one (0: not set). */
  readonly clusterSnapshotInterval?: (() => number) | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default: joinCluster over gRPC (join-cluster.ts); tests pass a fake. */
  readonly joinCluster?: typeof joinCluster;
  readonly startRaftNode?: typeof startRaftNode;
}

export class RaftStart implements Component {
  readonly name = "raft-start";
  private readonly logger: Logger;
  private current: ManagerIdentity | undefined;

  constructor(private readonly options: RaftStartOptions) {
    this.logger = componentLogger(options.logger, "manager");
  }

  /** This manager's identity with its raft id, once decided. */
  get identity(): ManagerIdentity | undefined {
    return this.current;
  }

  async run(signal: AbortSignal): Promise<void> {
    const o = this.options;
    const { nodeId, clusterId, material } = o.credentials;
    const loaded = o.identity.loaded;
    const advertise = o.listener.advertise;
    let raftId = loaded.raftId;
    let bootstrap = false;
    let knownMembers: RaftNodeOptions["knownMembers"] = [];
    if (raftId === 0) {
      const target = o.join;
      if (target !== undefined) {
        const join = o.joinCluster ?? joinCluster;
        const joined = await o.handle.joining(() =>
          join({ target, nodeId, addr: advertise, material, clock: o.clock, signal, logger: this.logger }),
        );
        raftId = joined.raftId;
        knownMembers = joined.members;
      } else {
        raftId = newRaftId();
        bootstrap = true;
      }
      this.current = { nodeId, raftId, clusterId };
      await saveIdentity(o.dataDir, this.current);
    } else {
      this.current = { ...loaded, nodeId, clusterId };
    }
    const keys = o.unlock.keys;
    const tuning = o.raft ?? {};
    const node = await (o.startRaftNode ?? startRaftNode)({
      raftId,
      nodeId,
      material,
      addr: advertise,
      dataDir: joinPath(o.dataDir, "raft"),
      logger: o.logger,
      stateMachine: o.stateMachine,
      bootstrap,
      knownMembers,
      ...(o.forceNewCluster ? { forceNewCluster: true } : {}),
      ...(tuning.tickMs !== undefined ? { tickMs: tuning.tickMs } : {}),
      ...(tuning.electionTick !== undefined ? { electionTick: tuning.electionTick } : {}),
      snapshotInterval: () => o.clusterSnapshotInterval?.() || tuning.snapshotInterval || 10_000,
      ...(tuning.sync !== undefined ? { sync: tuning.sync } : {}),
      onLeadership: (isLeader) => {
        this.logger.info({ isLeader }, isLeader ? "this manager is the leader" : "this manager is a follower");
        o.onLeadership(isLeader);
      },
      onRemoved: () => this.logger.warn("removed from the cluster; this manager no longer takes part"),
      dataKeys: keys.keyRing(),
      onDataKeysReleased: (inUse) =>
        void keys
          .released(inUse)
          .catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, "could not forget old data keys")),
      clock: o.clock,
    });
    o.handle.started(node);
  }

  /** Nothing of its own: the RaftHandle stops the node. */
  stop(): void {}
}
