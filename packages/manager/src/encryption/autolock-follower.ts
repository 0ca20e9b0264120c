// What every manager does about autolock, from its own replica of the cluster object (as SwarmKit keeps
// the unlock key in the cluster object, itself inside the encrypted Raft log): when autolock is turned on
// it wraps its data keys with the cluster's unlock key (rotating its DEK, which was on disk in clear, and
// the Raft disk then replaces the data under the old DEK at a snapshot taken at once); a new unlock key
// re-wraps them; autolock turned off writes them in clear. Changes are applied one at a time, the latest
// wins (a replay of the log after a restart does not toggle the key file through every past setting).
// The view taken at start may be older than what this manager already applied before it restarted (the
// log is replayed after it): at start, it only ever turns autolock on, never off.
// It runs on the shared ReconcileLoop: a pass after each burst of cluster commits reads the latest
// setting; a failed pass is logged and tried again at the next commit of the cluster.
import type { DataKey } from "@shoal/raft";
import { errorMessage, type Clock, type Cluster, type Logger } from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore } from "../state/store/index.js";
import type { RaftKeys } from "./raft-keys.js";
import { UnlockKey } from "./unlock-key.js";

export interface AutolockFollowerOptions {
  readonly store: MemoryStore;
  readonly keys: RaftKeys;
  /** The unlock key the cluster asks for (raw bytes), or undefined when autolock is off. */
  readonly unlockKeyOf: (cluster: Cluster | undefined) => Uint8Array | undefined;
  /** Hand a new DEK to the Raft disk (RaftNode.rotateDataKey: new writes, then a snapshot). */
  readonly rotateDataKey: (key: DataKey) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class AutolockFollower {
  readonly #options: AutolockFollowerOptions;
  readonly #logger: Logger;
  readonly #loop: ReconcileLoop;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** The setting last applied, as base64 ("" when off); undefined before the first. */
  #last: string | undefined;
  /** The cluster changed (or was read anew) since the last pass. */
  #dirty = false;
  /** The next pass reads only the view taken at start: it may turn autolock on, never off. */
  #fromStart = false;
  #started = false;
  /** The pass under way. */
  #passing: Promise<void> | undefined;

  constructor(options: AutolockFollowerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "autolock" });
    this.#loop = new ReconcileLoop(
      {
        tables: ["clusters"],
        kinds: ["create", "update"],
        reset: () => {
          this.#fromStart = !this.#started;
          this.#started = true;
          this.#dirty = true;
        },
        observe: () => {
          // A commit that changes the cluster says what is current: it may turn autolock off.
          this.#fromStart = false;
          this.#dirty = true;
        },
        hasWork: () => this.#dirty,
        pass: () => {
          const passing = this.pass().finally(() => (this.#passing = undefined));
          this.#passing = passing;
          return passing;
        },
      },
      { store: options.store, clock: options.clock, logger: this.#logger, capacity: 100 },
    );
  }

  /** Apply the cluster's setting now, then after each commit that changes it. Runs once; idempotent. */
  start(): void {
    this.#running ??= this.#loop.run().catch((err: unknown) => {
      this.#logger.error({ err: errorMessage(err) }, "autolock follower stopped");
    });
  }

  /** Resolves when the changes seen so far are applied (for tests and shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      if (this.#passing) await this.#passing;
      // Seen, and its pass about to start (the loop runs it as soon as it has read the burst).
      else if (this.#dirty && this.#running !== undefined && !this.#stopped)
        await new Promise<void>((resolve) => setImmediate(resolve));
      else return;
    }
  }

  /** Stops following; resolves once a change under way is applied. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#loop.stop();
  }

  /** Applies the latest setting the store holds, if it is not the one applied last. */
  private async pass(): Promise<void> {
    const fromStart = this.#fromStart;
    this.#fromStart = false;
    this.#dirty = false;
    const cluster = this.#options.store.view((tx) => tx.clusters.find()[0]);
    if (cluster === undefined) return;
    const raw = this.#options.unlockKeyOf(cluster);
    const on = raw !== undefined && raw.byteLength > 0;
    if (fromStart && !on) return;
    const marker = on ? Buffer.from(raw).toString("base64") : "";
    if (marker === this.#last) return;
    if (await this.apply(on ? raw : undefined)) this.#last = marker;
  }

  /** Whether it was applied. */
  private async apply(raw: Uint8Array | undefined): Promise<boolean> {
    try {
      const unlockKey = raw === undefined ? undefined : UnlockKey.fromBytes(raw);
      const rotated = await this.#options.keys.setUnlockKey(unlockKey);
      if (rotated !== undefined) {
        await this.#options.rotateDataKey(rotated);
        this.#logger.info({ key: rotated.id }, "autolock on: Raft files now sealed with a new data key");
      }
      return true;
    } catch (err: unknown) {
      // Tried again at the next commit of the cluster.
      this.#logger.error({ err: errorMessage(err) }, "could not apply the cluster's autolock setting");
      return false;
    }
  }
}
