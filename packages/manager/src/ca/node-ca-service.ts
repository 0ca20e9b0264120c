// NodeCA as this manager serves it: issuing and renewing certificates (the leader signs; a
// follower answers NOT_LEADER with the leader's address), with the lifetime the cluster's
// ca_config sets, and a manager's names as its Raft address says.
import { NodeCAService, durationToMs, type Clock, type Cluster, type Logger, type RaftMember } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { NodeCaServer } from "./ca-server.js";
import { certificateHosts } from "./certificate-hosts.js";

/** This manager's view of the Raft group; none of it before the node runs. */
export interface RaftView {
  readonly isLeader: boolean;
  leaderAddr(): string | undefined;
  members(): readonly RaftMember[];
  isRaftMember(nodeId: string): boolean;
}

export interface NodeCaServiceOptions {
  readonly server: ServiceRegistry;
  readonly store: MemoryStore;
  readonly raft: RaftView;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class NodeCaService implements Component {
  readonly name = "node-ca";

  constructor(private readonly options: NodeCaServiceOptions) {}

  run(): Promise<void> {
    const { server, store, raft, clock, logger } = this.options;
    const ca = new NodeCaServer({
      store,
      rootCaOf: (cluster) => cluster.rootCa,
      isLeader: () => raft.isLeader,
      leaderAddr: () => raft.leaderAddr(),
      isRaftMember: (id) => raft.isRaftMember(id),
      managerHosts: (id) => managerHosts(raft.members(), id),
      certLifetimeMs,
      clock,
      logger,
    });
    server.addService(NodeCAService, ca.handlers());
    return Promise.resolve();
  }

  stop(): void {}
}

/** The names for manager `nodeId`'s certificate: the host of its Raft address. */
export function managerHosts(members: readonly RaftMember[], nodeId: string): string[] {
  return certificateHosts(members.filter((m) => m.nodeId === nodeId).map((m) => m.addr));
}

/** The node certificate lifetime the cluster's ca_config sets; undefined: NodeCA's default. */
export function certLifetimeMs(cluster: Cluster): number | undefined {
  const expiry = cluster.spec?.caConfig?.nodeCertExpiry;
  return expiry ? durationToMs(expiry, 0) || undefined : undefined;
}
