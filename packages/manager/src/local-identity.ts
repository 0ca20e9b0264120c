// The first step of a manager's start-up: who it is, from DATA_DIR/identity.json (made on the
// first start), and whether the options fit: --force-new-cluster needs a data dir that was a
// member; --join is for an empty data dir only (ignored, with a note, otherwise).
import { ErrorCode, ShoalError, componentLogger, type Logger } from "@shoal/shared";
import { loadIdentity, type ManagerIdentity } from "./identity.js";
import type { Component } from "./lifecycle/component.js";

export interface LocalIdentityOptions {
  readonly dataDir: string;
  readonly join?: string | undefined;
  readonly forceNewCluster?: boolean | undefined;
  readonly logger: Logger;
}

export class LocalIdentity implements Component {
  readonly name = "identity";
  private result: { identity: ManagerIdentity; fresh: boolean } | undefined;

  constructor(private readonly options: LocalIdentityOptions) {}

  /** The identity as loaded. */
  get loaded(): ManagerIdentity {
    return this.read().identity;
  }

  /** Whether the data dir holds a cluster member (a raft id). */
  get member(): boolean {
    const { identity, fresh } = this.read();
    return !fresh && identity.raftId !== 0;
  }

  async run(): Promise<void> {
    const { dataDir, join, forceNewCluster } = this.options;
    const result = await loadIdentity(dataDir);
    const member = !result.fresh && result.identity.raftId !== 0;
    if (forceNewCluster && !member) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `--force-new-cluster needs the data dir of a manager that was a member of a cluster; ${dataDir} holds none`,
      );
    }
    if (forceNewCluster && join) {
      throw new ShoalError(ErrorCode.InvalidArgument, "--force-new-cluster and --join do not go together");
    }
    if (join && member) {
      componentLogger(this.options.logger, "manager").info(
        "data dir holds a cluster member already; --join is ignored",
      );
    }
    this.result = result;
  }

  stop(): void {}

  private read(): { identity: ManagerIdentity; fresh: boolean } {
    if (!this.result) throw new Error("the manager's identity is not loaded yet");
    return this.result;
  }
}
