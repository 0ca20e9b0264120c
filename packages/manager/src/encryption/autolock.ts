// Autolock while the manager runs: the AutolockFollower rewraps this manager's data keys when the
// cluster's unlock key changes, and rotates the Raft data key through the running node.
import type { DataKey } from "@shoal/raft";
import type { Clock, Logger } from "@shoal/shared";
import { clusterUnlockKey } from "../controlapi/unlock-key.js";
import type { Component } from "../lifecycle/component.js";
import type { MemoryStore } from "../state/store/index.js";
import { AutolockFollower } from "./autolock-follower.js";
import type { RaftKeys } from "./raft-keys.js";

export interface AutolockOptions {
  readonly store: MemoryStore;
  readonly unlock: { readonly keys: RaftKeys };
  /** Rotates the data key of the Raft files (RaftNode.rotateDataKey). */
  readonly rotateDataKey: (key: DataKey) => Promise<void>;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class Autolock implements Component {
  readonly name = "autolock";
  private follower: AutolockFollower | undefined;

  constructor(private readonly options: AutolockOptions) {}

  run(): Promise<void> {
    const { store, unlock, rotateDataKey, logger } = this.options;
    this.follower = new AutolockFollower({
      clock: this.options.clock,
      store,
      keys: unlock.keys,
      unlockKeyOf: clusterUnlockKey,
      rotateDataKey,
      logger,
    });
    this.follower.start();
    return Promise.resolve();
  }

  stop(): void {
    this.follower?.stop();
  }
}
