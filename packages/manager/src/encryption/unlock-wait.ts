// The first wait of a manager's start-up: the data keys of its Raft files. When they are wrapped
// with the cluster's unlock key (autolock), the manager serves DATA_DIR/unlock.sock, and nothing
// else, until `shoal manager unlock` gives the right key (or the manager is stopped).
import { raceAbort, type Clock, type Logger } from "@shoal/shared";
import type { Component } from "../lifecycle/component.js";
import { RaftKeys } from "./raft-keys.js";
import { UnlockSocket } from "./unlock-socket.js";

export interface UnlockWaitOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class UnlockWait implements Component {
  readonly name = "unlock";
  private opened: RaftKeys | undefined;
  private socket: UnlockSocket | undefined;

  constructor(private readonly options: UnlockWaitOptions) {}

  /** The data keys, unlocked; once run. */
  get keys(): RaftKeys {
    if (!this.opened) throw new Error("the data keys are not open yet");
    return this.opened;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { dataDir, logger, clock } = this.options;
    const keys = await RaftKeys.open(dataDir, logger);
    if (keys.locked) {
      const socket = new UnlockSocket({ dataDir, logger, clock, unlock: (key) => Promise.resolve(keys.unlock(key)) });
      this.socket = socket;
      await socket.start();
      await raceAbort(socket.unlocked, signal);
      await socket.stop();
    }
    this.opened = keys;
  }

  /** Closes the unlock socket if the manager stops while locked. */
  async stop(): Promise<void> {
    await this.socket?.stop();
  }
}
