// The narrow views of a manager's Raft node that the rest of the manager reads through (the Control
// API, metrics, backup): they depend on what they read, not on the driver, and tests build them as
// plain objects.
import type { RaftMember } from "@shoal/shared";

/** What the leader knows of one member (the leader's own entry included). */
export interface PeerStatus {
  /** The highest log index known to be replicated on the member. */
  readonly match: number;
  /** The Raft core's flag: set by any message, cleared for every peer at each check-quorum. */
  readonly recentActive: boolean;
  /**
   * Heard from within the reachability window (see peer-liveness.ts); always true for the leader
   * itself. What `shoal cluster status` shows.
   */
  readonly reachable: boolean;
}

export interface RaftStatus {
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  /** The leader's raft id; 0 when none is known. */
  readonly leader: number;
  /** Per member, on the leader only (empty elsewhere). */
  readonly progress: ReadonlyMap<number, PeerStatus>;
}

/** Who leads and who is a member, as this manager knows it now. */
export interface RaftView {
  readonly raftId: number;
  readonly isLeader: boolean;
  /** 0 when no leader is known. */
  readonly leaderId: number;
  /** The leader's raft address, when known. */
  leaderAddr(): string | undefined;
  /** Copies of the members. */
  memberList(): RaftMember[];
  /** Throws while the node is still starting. */
  status(): RaftStatus;
}

/** Read index: resolves once this manager has applied everything committed before the call. */
export interface LinearizableReader {
  linearizableRead(signal?: AbortSignal): Promise<void>;
}
