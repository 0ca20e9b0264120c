// Joins that never completed (leader only). NodeCA creates a node when it signs a join (the
// certificate names it, and the auth interceptor admits only certificates of nodes in the store),
// so a join that fails after the signature leaves a node that never shows up: the joiner gave up
// or was stopped, its manager could not join the Raft group, the answer was lost and it joined
// again as another node. Such a node would stay in `node ls` for ever, UNKNOWN, and hold back a
// root CA rotation (it never renews).
//
// A node is a pending join while it has never opened a session (no description: the dispatcher
// writes it at the first session) and is not in the Raft group (a manager's node goes once it
// joins the group). One still pending `graceMs` after it was created is removed; its certificate
// is then refused, as for `shoal node rm`, and the machine joins again with a token. The time is
// the store's (meta.created_at), so a new leader keeps the count. Nodes are looked at on each
// burst of node commits, and again when the next pending one is due.
import { componentLogger, type Clock, type Logger, type Node, type Timer } from "@shoal/shared";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore, ReadTx } from "../state/store/index.js";

/** How long a joined node may take to open its first session (or join the Raft group), by default. */
export const DEFAULT_JOIN_GRACE_MS = 10 * 60_000;

export interface JoinExpiryOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  /** The loop's time and timers; the `now` that decides. */
  readonly clock: Clock;
  /** Node ids of the Raft group's members (the managers). */
  readonly managers: () => readonly string[];
  /** Default DEFAULT_JOIN_GRACE_MS. */
  readonly graceMs?: number | undefined;
}

/** Whether `node` is a join that has not completed: no session ever, not a Raft member. */
export function isPendingJoin(node: Node, members: ReadonlySet<string>): boolean {
  return node.description === undefined && node.managerStatus === undefined && !members.has(node.id);
}

/** When a pending join expires: `graceMs` after the node was made (0 for a node with no date). */
export function joinExpiresAt(node: Node, graceMs: number): number {
  return (node.meta?.createdAt?.getTime() ?? 0) + graceMs;
}

export class JoinExpiry {
  private readonly options: JoinExpiryOptions;
  private readonly graceMs: number;
  private readonly logger: Logger;
  private readonly loop: ReconcileLoop;
  private dirty = false;
  private wake: Timer | undefined;

  constructor(options: JoinExpiryOptions) {
    this.options = options;
    this.graceMs = options.graceMs ?? DEFAULT_JOIN_GRACE_MS;
    this.logger = componentLogger(options.logger, "ca/join-expiry");
    this.loop = new ReconcileLoop(
      {
        tables: ["nodes"],
        // Only a new node can be a pending join; a session or a removal only ends one (the timer
        // then finds nothing due).
        kinds: ["create"],
        reset: () => void (this.dirty = true),
        observe: () => void (this.dirty = true),
        hasWork: () => this.dirty,
        pass: () => this.pass(),
        stopped: () => this.wake?.cancel(),
      },
      { store: options.store, clock: options.clock, logger: this.logger },
    );
  }

  /** Runs until `signal` aborts or `stop()`; starts from one snapshot of the store. */
  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  /** Stops and waits for the loop to end. Idempotent. */
  stop(): Promise<void> {
    this.wake?.cancel();
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    this.dirty = false;
    this.wake?.cancel();
    this.wake = undefined;
    const now = this.options.clock.now();
    const due = (tx: ReadTx): { expired: Node[]; next: number } => {
      const members = new Set(this.options.managers());
      const pending = tx.nodes.find().filter((n) => isPendingJoin(n, members));
      const expired = pending.filter((n) => joinExpiresAt(n, this.graceMs) <= now);
      const later = pending.map((n) => joinExpiresAt(n, this.graceMs)).filter((at) => at > now);
      return { expired, next: Math.min(...later) };
    };
    const { expired, next } = this.options.store.view(due);
    if (expired.length > 0) {
      // Decided again in the transaction: a session that opened meanwhile keeps its node.
      const removed = await this.options.store.update((tx) => {
        const again = due(tx).expired;
        for (const n of again) tx.nodes.delete(n.id);
        return again;
      });
      for (const n of removed) {
        this.logger.warn(
          { nodeId: n.id, role: n.role, graceMs: this.graceMs },
          "removed a node that joined but never opened a session: the join did not complete",
        );
      }
    }
    if (Number.isFinite(next)) {
      this.wake = this.options.clock.setTimeout(() => {
        this.dirty = true;
        this.loop.kick();
      }, next - now);
    }
  }
}
