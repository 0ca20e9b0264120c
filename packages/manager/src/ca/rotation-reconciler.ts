// The root rotation's leader component: ends a root CA rotation once every node and every manager
// holds a certificate from the new key (see root-rotation.ts for the steps).
//
// It does not tell nodes to renew itself: the dispatcher derives that from the store for each
// session (needsRenewal), and managers from their own replica of it. It reconciles once per burst
// of cluster and node commits, and, while a rotation runs, also every `pollMs`: the Raft group's
// members are not in the store, so a manager leaving the group is seen by polling. The finish is
// decided again inside the write transaction, so a node joining or a rotation started anew
// meanwhile is not missed. A new leader starts from the store, so a rotation survives a change
// of leader.
import { componentLogger, type Clock, type Logger, type Timer } from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore, ObjectEvent } from "../state/store/index.js";
import { planRotation, type RotationProgress } from "./root-rotation.js";

export const DEFAULT_ROTATION_POLL_MS = 2_000;

export interface RootRotationReconcilerOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** Node ids of the Raft group's members (the managers). */
  readonly managers: () => readonly string[];
  /** Times the loop (debounce, retries) and this component's own timers; the `now` of its decisions. */
  readonly clock: Clock;
  /** How often to look again while a rotation runs; default 2 s. */
  readonly pollMs?: number | undefined;
  /** Makes a join token for a CA digest; default pki.newJoinToken. */
  readonly newJoinToken?: ((digest: string) => string) | undefined;
  readonly debounceMs?: number | undefined;
}

export class RootRotationReconciler {
  private readonly store: MemoryStore;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly options: RootRotationReconcilerOptions;
  private readonly loop: ReconcileLoop;
  private dirty = false;
  private poll: Timer | undefined;
  private reported = "";

  constructor(options: RootRotationReconcilerOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.logger = componentLogger(options.logger, "ca/rotation");
    this.loop = new ReconcileLoop(
      {
        tables: ["clusters", "nodes"],
        reset: () => void (this.dirty = true),
        observe: (e) => this.observe(e),
        hasWork: () => this.dirty,
        pass: () => this.pass(),
        stopped: () => this.poll?.cancel(),
      },
      {
        store: this.store,
        clock: this.clock,
        logger: this.logger,
        debounceMs: options.debounceMs ?? 50,
        maxDelayMs: 500,
      },
    );
  }

  /** Runs until `signal` aborts or `stop()`; starts from one snapshot of the store. */
  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Stops and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    this.poll?.cancel();
    return this.loop.stop();
  }

  private observe(e: ObjectEvent): void {
    // Node status updates (heartbeats) are frequent; a pass without a rotation reads one object.
    if (e.table === "clusters" || e.table === "nodes") this.dirty = true;
  }

  private async pass(): Promise<void> {
    this.dirty = false;
    this.poll?.cancel();
    this.poll = undefined;
    const step = this.store.view((tx) =>
      planRotation(tx.clusters.find()[0], tx.nodes.find(), this.options.managers(), this.options.newJoinToken),
    );
    if (step.kind === "idle") {
      this.reported = "";
      return;
    }
    if (step.kind === "waiting") {
      this.report(step.progress);
      this.poll = this.clock.setTimeout(() => {
        this.dirty = true;
        this.loop.kick();
      }, this.options.pollMs ?? DEFAULT_ROTATION_POLL_MS);
      return;
    }
    const finished = await this.store.update((tx) => {
      const cluster = tx.clusters.find()[0];
      const again = planRotation(cluster, tx.nodes.find(), this.options.managers(), this.options.newJoinToken);
      if (!cluster || again.kind !== "finish") return undefined;
      tx.clusters.update({ ...cluster, rootCa: again.rootCa, rootJoinTokens: again.tokens });
      return again.progress;
    });
    if (finished) {
      this.reported = "";
      this.logger.info(
        { digest: finished.newDigest, replaced: finished.oldDigest, renewed: finished.total },
        "root CA rotation finished: the new root alone is trusted, join tokens made again",
      );
    } else {
      this.dirty = true; // the state moved under us: look again
    }
  }

  private report(progress: RotationProgress): void {
    const key = `${progress.newDigest}:${progress.done}/${progress.total}`;
    if (key === this.reported) return;
    this.reported = key;
    this.logger.info(
      {
        digest: progress.newDigest,
        done: progress.done,
        total: progress.total,
        pending: progress.pending.slice(0, 10),
      },
      "root CA rotation: waiting for certificates from the new key",
    );
  }
}
