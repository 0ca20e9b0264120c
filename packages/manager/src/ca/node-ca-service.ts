// NodeCA as this manager serves it: issuing and renewing certificates (the leader signs; a
// follower forwards IssueNodeCertificate to the leader with this manager's certificate, and
// answers NOT_LEADER when it knows no leader), with the lifetime the cluster's ca_config sets, and
// a manager's names as its Raft address says.
import {
  NodeCAService,
  durationToMs,
  type Clock,
  type Cluster,
  type Logger,
  type RaftMember,
  type TlsMaterial,
} from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { NodeCaServer } from "./ca-server.js";
import { certificateHosts } from "./certificate-hosts.js";
import { NodeCaForwarder } from "./node-ca-forwarder.js";

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
  /** This manager's certificate (renewed in place), to forward to the leader with. */
  readonly credentials: { readonly material: TlsMaterial };
  readonly clock: Clock;
  readonly logger: Logger;
}

export class NodeCaService implements Component {
  readonly name = "node-ca";
  private forwarder: NodeCaForwarder | undefined;

  constructor(private readonly options: NodeCaServiceOptions) {}

  run(): Promise<void> {
    const { server, store, raft, credentials, clock, logger } = this.options;
    const forwarder = (this.forwarder = new NodeCaForwarder({ material: () => credentials.material }));
    const ca = new NodeCaServer({
      store,
      rootCaOf: (cluster) => cluster.rootCa,
      isLeader: () => raft.isLeader,
      leaderAddr: () => raft.leaderAddr(),
      forwardToLeader: (leader, request, caller, signal) => forwarder.issue(leader, request, caller, signal),
      isRaftMember: (id) => raft.isRaftMember(id),
      raftMember: (id) => raft.members().find((m) => m.nodeId === id),
      managerHosts: (id) => managerHosts(raft.members(), id),
      certLifetimeMs,
      clock,
      logger,
    });
    server.addService(NodeCAService, ca.handlers());
    return Promise.resolve();
  }

  /** Cancels forwarded calls in flight and closes the channels to the leader. Idempotent. */
  stop(): void {
    this.forwarder?.close();
  }
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
