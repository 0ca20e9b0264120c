// The log broker as a part of the manager: clients' log subscriptions and agents' log streams
// (a follower forwards subscriptions to the leader with this manager's certificate).
import { LogsService, type Clock, type Logger, type TlsMaterial } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { MemoryStore } from "../state/store/index.js";
import { LogBroker } from "./log-broker.js";
import { logNodes } from "./log-targets.js";

export interface LogBrokerComponentOptions {
  readonly server: ServiceRegistry;
  /** The store, to send a subscription only to the nodes of its tasks. */
  readonly store: MemoryStore;
  readonly credentials: { readonly material: TlsMaterial };
  readonly raft: { readonly isLeader: boolean; leaderAddr(): string | undefined };
  readonly logger: Logger;
  readonly clock: Clock;
}

export class LogBrokerComponent implements Component {
  readonly name = "log-broker";
  private broker: LogBroker | undefined;

  constructor(private readonly options: LogBrokerComponentOptions) {}

  run(): Promise<void> {
    const { server, credentials, raft, logger } = this.options;
    this.broker = new LogBroker({
      clock: this.options.clock,
      logger,
      material: credentials.material,
      isLeader: () => raft.isLeader,
      leaderAddr: () => raft.leaderAddr(),
      nodesFor: (request) => logNodes(this.options.store, request),
    });
    server.addService(LogsService, this.broker.handlers());
    return Promise.resolve();
  }

  /** Ends every subscription and agent stream; idempotent. */
  stop(): void {
    this.broker?.close();
  }
}
