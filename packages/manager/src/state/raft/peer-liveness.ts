// When this node last heard from each peer, by the clock: the reachability that `shoal cluster
// status` shows. The Raft core's Progress.recentActive is not used for it: check-quorum clears it
// for every peer at each election timeout, and a peer sets it again only with its next message, so
// for one heartbeat round-trip after every check a healthy member reads as inactive. A sliding
// window over the time of the last message has no such gap.
import type { Clock } from "@shoal/shared";
import type { PeerProgress } from "@shoal/raft";
import type { PeerStatus } from "./raft-view.js";

export interface LivenessTiming {
  readonly tickMs: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
}

/**
 * The window: an election timeout, and at least two heartbeat intervals. A healthy member answers
 * every heartbeat, so it is heard at least every heartbeat interval; an election timeout is how long
 * the core itself waits (check-quorum, a follower's election timer) before taking silence for a
 * failure, so a member shown unreachable is one the core would also have counted out; two
 * heartbeats at least, so that one lost heartbeat never shows a member unreachable.
 */
export function reachabilityWindowMs(t: LivenessTiming): number {
  return Math.max(t.electionTick, 2 * t.heartbeatTick) * t.tickMs;
}

export class PeerLiveness {
  private readonly lastHeard = new Map<number, number>();

  constructor(
    private readonly clock: Clock,
    readonly windowMs: number,
  ) {}

  /** A message from `raftId` arrived now. */
  heard(raftId: number): void {
    this.lastHeard.set(raftId, this.clock.now());
  }

  /** Whether `raftId` was heard from within the window. */
  reachable(raftId: number): boolean {
    const at = this.lastHeard.get(raftId);
    return at !== undefined && this.clock.now() - at <= this.windowMs;
  }

  /** The leader's progress of each member, with whether it is reachable (`self` always is). */
  statuses(progress: ReadonlyMap<number, PeerProgress> | undefined, self: number): Map<number, PeerStatus> {
    const out = new Map<number, PeerStatus>();
    for (const [id, p] of progress ?? []) {
      out.set(id, { match: p.match, recentActive: p.recentActive, reachable: id === self || this.reachable(id) });
    }
    return out;
  }

  /** The peer left the group. */
  forget(raftId: number): void {
    this.lastHeard.delete(raftId);
  }
}
