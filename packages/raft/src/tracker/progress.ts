// What the leader knows about one follower's log, and the state machine that decides how it sends to it:
// - probe: the match point is unknown; send one MsgApp per heartbeat interval and back up on rejection;
// - replicate: the match point is known; stream entries optimistically (pipelining) up to the inflights
//   limit, advancing `next` as messages leave;
// - snapshot: the entries it needs are compacted; a snapshot is on its way and nothing else is sent.
import type { Inflights } from "./inflights.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = "probe";
  /** In the snapshot state, the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Whether the follower was heard from since the last check-quorum round. */
  recentActive = false;
  /** In the probe state, a probe was sent and we wait for its answer or a heartbeat response. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(match: number, next: number, inflights: Inflights) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming back from a snapshot, the follower holds at least what the snapshot covered.
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** Account for a MsgApp just sent whose entries end at lastIndex (entries may be empty: count 0). */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === "replicate") {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  /** An acknowledgement up to n arrived. Returns false when it is stale (nothing new). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected a MsgApp whose previous index was `rejected`, and suggests `matchHint` as the
   * highest index that may match. Returns false when the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      // Rejections of indexes already matched are stale; otherwise go back to just after the match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe, only the answer to the latest probe (sent from next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending entries to this follower is throttled right now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }
}
