// What every manager does about autolock, from its own replica of the cluster object (as SwarmKit keeps
// the unlock key in the cluster object, itself inside the encrypted Raft log): when autolock is turned on
// it wraps its data keys with the cluster's unlock key (rotating its DEK, which was on disk in clear, and
// the Raft disk then replaces the data under the old DEK at a snapshot taken at once); a new unlock key
// re-wraps them; autolock turned off writes them in clear. Changes are applied one at a time, the latest
// wins (a replay of the log after a restart does not toggle the key file through every past setting).
// The view taken at start may be older than what this manager already applied before it restarted (the
// log is replayed after it): at start, it only ever turns autolock on, never off.
import type { DataKey } from "@shoal/raft";
import { errorMessage, type Cluster, type Logger } from "@shoal/shared";
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
  readonly logger: Logger;
}

export class AutolockFollower {
  readonly #options: AutolockFollowerOptions;
  readonly #logger: Logger;
  #stop: (() => void) | undefined;
  /** The setting last applied, as base64 ("" when off); undefined before the first. */
  #last: string | undefined;
  /** The latest setting seen, not applied yet. */
  #desired: Uint8Array | undefined | null = null;
  #running: Promise<void> | undefined;

  constructor(options: AutolockFollowerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "autolock" });
  }

  /** Apply the cluster's setting now, then after each commit that changes it. */
  start(): void {
    if (this.#stop) return;
    const { store } = this.#options;
    const { result, subscription } = store.viewAndWatch((tx) => tx.clusters.find()[0], {
      tables: ["clusters"],
      kinds: ["create", "update"],
      commits: "matched",
      capacity: 100,
    });
    this.#stop = () => subscription.close();
    const initial = result === undefined ? undefined : this.#options.unlockKeyOf(result);
    if (initial !== undefined && initial.byteLength > 0) this.consider(result);
    void (async () => {
      try {
        for await (const ev of subscription) {
          if (ev.kind !== "commit" && ev.kind !== "resync") continue;
          this.consider(store.view((tx) => tx.clusters.find()[0]));
        }
      } catch {
        // Overflow: the next start (or restart) applies the current setting.
      }
    })();
  }

  /** Resolves when the changes seen so far are applied (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Idempotent. */
  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  private consider(cluster: Cluster | undefined): void {
    if (cluster === undefined) return;
    const raw = this.#options.unlockKeyOf(cluster);
    const marker = raw === undefined || raw.byteLength === 0 ? "" : Buffer.from(raw).toString("base64");
    if (marker === this.#last && this.#desired === null) return;
    this.#desired = marker === "" ? undefined : raw;
    this.#running ??= this.drain().finally(() => (this.#running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.#desired !== null) {
      const raw = this.#desired;
      this.#desired = null;
      const marker = raw === undefined ? "" : Buffer.from(raw).toString("base64");
      if (marker === this.#last) continue;
      if (await this.apply(raw)) this.#last = marker;
    }
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
