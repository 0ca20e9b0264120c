// Who leads, as this node's Raft says, and when the manager is told. A new leader is announced
// (onLeadership(true)) only once it has applied everything committed before its term: a read index
// is answered only after an entry of the new term commits. Leadership lost is announced at once,
// and what waits on it fails: proposals in flight may be in the log of a majority already, and the
// next leader may commit them, so their outcome is unknown, not "refused" (a client may not retry
// blindly).
import { ErrorCode, ShoalError, errorMessage, type Clock, type Logger } from "@shoal/shared";
import type { PeerProgress } from "@shoal/raft";

export interface LeadershipOptions {
  /** This node's raft id. */
  readonly self: number;
  readonly logger: Logger;
  /** For the pause between two attempts to confirm a new leadership, and the wait of a transfer. */
  readonly clock: Clock;
  /** Resolves once this leader has applied everything committed before the call (read index). */
  confirm(): Promise<void>;
  /** Leadership was lost: fail what waits on it with `err`. */
  onLost(err: Error): void;
  readonly onLeadership?: ((isLeader: boolean) => void) | undefined;
}

/** What a transfer needs of the RawNode. */
export interface TransferNode {
  status(): { progress?: ReadonlyMap<number, Pick<PeerProgress, "match">> | undefined };
  transferLeader(to: number): void;
}

export class Leadership {
  private leaderId = 0;
  private leading = false;
  /** Counts leadership changes, so that a late confirmation of an old leadership is ignored. */
  private changes = 0;
  /** Whether onLeadership(true) was called for the present leadership. */
  private announced = false;
  private stopped = false;

  constructor(private readonly options: LeadershipOptions) {}

  /** The leader's raft id; 0 when none is known. */
  get leader(): number {
    return this.leaderId;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** A Ready's soft state: the leader, and whether it is this node. */
  update(lead: number, isLeader: boolean, term: number): void {
    if (lead !== this.leaderId) this.options.logger.info({ leader: lead, term }, "leader changed");
    this.leaderId = lead;
    if (isLeader === this.leading) return;
    this.leading = isLeader;
    const change = ++this.changes;
    if (!isLeader) {
      this.options.onLost(
        new ShoalError(
          ErrorCode.Unavailable,
          "this manager lost leadership before the write was committed; it may still be applied",
        ),
      );
      if (this.announced) {
        this.announced = false;
        this.options.onLeadership?.(false);
      }
      return;
    }
    void this.announceOnceConfirmed(change);
  }

  /**
   * Hands leadership to the member with the most of the log, and waits (up to `timeoutMs`, by the
   * clock) until this node no longer leads; `kick` runs the driver's loop. Resolves with whether
   * leadership moved.
   */
  async transfer(node: TransferNode, timeoutMs: number, kick: () => void): Promise<boolean> {
    if (!this.leading) return false;
    const to = transferTarget(node.status().progress, this.options.self);
    if (to === undefined) return false;
    this.options.logger.info({ to }, "transferring leadership");
    node.transferLeader(to);
    kick();
    const { clock } = this.options;
    const deadline = clock.now() + timeoutMs;
    while (clock.now() < deadline && this.leading && !this.stopped) await clock.sleep(20);
    return !this.leading;
  }

  /** No more announcements. */
  stop(): void {
    this.stopped = true;
  }

  private async announceOnceConfirmed(change: number): Promise<void> {
    const current = (): boolean => this.leading && this.changes === change && !this.stopped;
    while (current()) {
      try {
        await this.options.confirm();
        if (current() && !this.announced) {
          this.announced = true;
          this.options.onLeadership?.(true);
        }
        return;
      } catch (err: unknown) {
        this.options.logger.debug({ err: errorMessage(err) }, "leadership not confirmed yet");
        await this.options.clock.sleep(100);
      }
    }
  }
}

/** Whom to hand leadership to: the other member with the most of the log; undefined when none. */
export function transferTarget(
  progress: ReadonlyMap<number, Pick<PeerProgress, "match">> | undefined,
  self: number,
): number | undefined {
  let best: number | undefined;
  let bestMatch = -1;
  for (const [id, p] of progress ?? []) {
    if (id !== self && p.match > bestMatch) {
      best = id;
      bestMatch = p.match;
    }
  }
  return best;
}
