// Prometheus metrics as a part of the manager (--metrics-addr): served at /metrics.
import type { Clock, Logger } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { RaftNode } from "../state/raft/raft-node.js";
import type { MemoryStore } from "../state/store/index.js";
import { serveManagerMetrics } from "./manager-metrics.js";

export interface MetricsComponentOptions {
  /** HOST:PORT to serve on; off when undefined. */
  readonly listen: string | undefined;
  readonly store: MemoryStore;
  readonly raft: { readonly node: RaftNode | undefined };
  readonly credentials: { readonly nodeId: string };
  readonly logger: Logger;
  readonly clock: Clock;
}

export class MetricsComponent implements Component {
  readonly name = "metrics";
  private served: { address: string; stop(): Promise<void> } | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MetricsComponentOptions) {}

  /** The address served, once up ("" before). */
  get address(): string {
    return this.served?.address ?? "";
  }

  async run(): Promise<void> {
    const { listen, store, raft, credentials, logger } = this.options;
    if (listen === undefined) return;
    this.served = await serveManagerMetrics(listen, {
      clock: this.options.clock,
      store,
      raft: () => raft.node,
      logger,
      labels: { node_id: credentials.nodeId },
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.served?.stop() ?? Promise.resolve();
    return this.stopping;
  }
}
