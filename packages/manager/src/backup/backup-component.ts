// Backups as a part of the manager: CreateBackup streams a consistent copy of this manager's
// store and Raft state (available once the Raft node runs).
import { BackupService, type Clock } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import type { ServiceRegistry } from "../server/service-registry.js";
import type { RaftNode } from "../state/raft/raft-node.js";
import type { MemoryStore } from "../state/store/index.js";
import { backupHandlers } from "./backup-server.js";

export interface BackupComponentOptions {
  readonly server: ServiceRegistry;
  readonly store: MemoryStore;
  readonly raft: { readonly node: RaftNode | undefined };
  readonly credentials: { readonly nodeId: string };
  readonly clock: Clock;
}

export class BackupComponent implements Component {
  readonly name = "backup";

  constructor(private readonly options: BackupComponentOptions) {}

  run(): Promise<void> {
    const { server, store, raft, credentials } = this.options;
    server.addService(
      BackupService,
      backupHandlers({ store, raft: () => raft.node, nodeId: credentials.nodeId, clock: this.options.clock }),
    );
    return Promise.resolve();
  }

  stop(): void {}
}
