// The leader's view of the cluster: the voting configuration, one Progress per member, and the votes
// collected during an election.
import { committedIndex, majority, voteResult } from "../quorum/majority.js";
import type { VoteResult } from "../quorum/majority.js";
import type { ConfState } from "../types.js";
import { Inflights } from "./inflights.js";
import { Progress } from "./progress.js";

export interface VoteTally {
  granted: number;
  rejected: number;
  result: VoteResult;
}

export class ProgressTracker {
  /** Voting members in ascending order. */
  private votersList: number[] = [];
  readonly progress = new Map<number, Progress>();
  private readonly votes = new Map<number, boolean>();
  readonly maxInflight: number;
  readonly maxInflightBytes: number;

  constructor(maxInflight: number, maxInflightBytes = 0) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
  }

  get voters(): readonly number[] {
    return this.votersList;
  }

  isVoter(id: number): boolean {
    return this.progress.has(id);
  }

  confState(): ConfState {
    return { voters: [...this.votersList] };
  }

  /** A one-member configuration. */
  isSingleton(): boolean {
    return this.votersList.length === 1;
  }

  newProgress(match: number, next: number): Progress {
    return new Progress(match, next, new Inflights(this.maxInflight, this.maxInflightBytes));
  }

  /** Add a voter with the given progress (no-op when already a voter). */
  addVoter(id: number, progress: Progress): void {
    if (this.progress.has(id)) return;
    this.progress.set(id, progress);
    this.votersList = [...this.progress.keys()].sort((a, b) => a - b);
  }

  removeVoter(id: number): void {
    if (!this.progress.delete(id)) return;
    this.votes.delete(id);
    this.votersList = this.votersList.filter((v) => v !== id);
  }

  /** Highest index replicated on a majority of voters. */
  committed(): number {
    return committedIndex(this.votersList, (id) => this.progress.get(id)?.match);
  }

  /** Whether a majority of voters (counting the caller's own id as active) were recently active. */
  quorumActive(self: number): boolean {
    let active = 0;
    for (const id of this.votersList) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= majority(this.votersList.length);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Record a vote; the first answer of each voter counts. */
  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteTally {
    let granted = 0;
    let rejected = 0;
    for (const id of this.votersList) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.votersList, this.votes) };
  }

  /** Outcome of an ad-hoc vote among the voters, e.g. the heartbeat acks of a read-index round. */
  voteResultOf(acks: ReadonlySet<number>): VoteResult {
    const votes = new Map<number, boolean>();
    for (const id of acks) votes.set(id, true);
    return voteResult(this.votersList, votes);
  }
}
