// The Containers service as a part of the manager: container calls from clients, forwarded by a
// follower to the leader, handed by the leader to the agents listening on their sessions.
import { ContainersService, type Clock, type Logger, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { ContainerBroker, type AgentSessions } from "./container-broker.js";

export interface ContainersComponentOptions {
  readonly server: ServiceRegistry;
  readonly store: MemoryStore;
  /** The dispatcher, whose sessions the agents' listeners belong to. */
  readonly sessions: AgentSessions;
  readonly credentials: { readonly material: TlsMaterial };
  readonly raft: { readonly isLeader: boolean; leaderAddr(): string | undefined };
  readonly logger: Logger;
  readonly clock: Clock;
}

export class ContainersComponent implements Component {
  readonly name = "containers";
  private broker: ContainerBroker | undefined;

  constructor(private readonly options: ContainersComponentOptions) {}

  run(): Promise<void> {
    const { server, store, sessions, credentials, raft, logger, clock } = this.options;
    this.broker = new ContainerBroker({
      store,
      sessions,
      logger,
      clock,
      material: credentials.material,
      isLeader: () => raft.isLeader,
      leaderAddr: () => raft.leaderAddr(),
    });
    server.addService(ContainersService, this.broker.handlers());
    return Promise.resolve();
  }

  /** Ends every call and agent listener; idempotent. */
  stop(): void {
    this.broker?.close();
  }
}
