// The Raft services this manager serves to the other managers: RaftTransport (their messages) and
// RaftMembership (join, leave). Served before this manager joins: the leader sends to a joiner as
// soon as it is a member; until the node runs, messages are dropped and membership calls answer
// UNAVAILABLE.
import { RaftMembershipService, RaftTransportService, type Logger, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../../lifecycle/component.js";
import type { ServiceRegistry } from "../../server/service-registry.js";
import type { RaftNode } from "./raft-node.js";
import { Membership, raftTransportHandlers } from "./raft-server.js";

export interface RaftServicesOptions {
  readonly server: ServiceRegistry;
  readonly raft: { readonly node: RaftNode | undefined };
  /** This manager's certificate, to forward membership calls to the leader. */
  readonly credentials: { readonly material: TlsMaterial };
  readonly logger: Logger;
}

export class RaftServices implements Component {
  readonly name = "raft-services";
  private membership: Membership | undefined;

  constructor(private readonly options: RaftServicesOptions) {}

  run(): Promise<void> {
    const { server, raft, credentials, logger } = this.options;
    const node = (): RaftNode | undefined => raft.node;
    this.membership = new Membership(node, credentials.material);
    server.addService(RaftTransportService, raftTransportHandlers(node, logger));
    server.addService(RaftMembershipService, this.membership.handlers());
    return Promise.resolve();
  }

  stop(): void {
    this.membership?.close();
  }
}
