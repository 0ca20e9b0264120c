// The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", and
// Ongaro's thesis), deterministic and free of I/O: time arrives through tick(), everything else through
// step(); output accumulates in `msgs` and `readStates`, and in the log's unstable part and cursors,
// which RawNode turns into a Ready.
//
// A node's role is the pair (stepFn, tickFn) swapped on every transition, not flags tested everywhere:
//   follower:      stepFollower / tickElection
//   preCandidate:  stepCandidate / tickElection   (thesis 9.6: ask for votes without bumping the term)
//   candidate:     stepCandidate / tickElection
//   leader:        stepLeader / tickHeartbeat
import type { Config } from "./config.js";
import { resolveConfig } from "./config.js";
import { entriesSize } from "./entry-size.js";
import {
  CompactedError,
  ProposalDroppedError,
  RaftInvariantError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.js";
import { RaftLog } from "./log.js";
import type { RaftLogger } from "./logger.js";
import type { RandomSource } from "./random.js";
import { ReadOnly } from "./read-only.js";
import type { Progress } from "./tracker/progress.js";
import { ProgressTracker } from "./tracker/progress-tracker.js";
import type { VoteResult } from "./quorum/majority.js";
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  MessageType,
  ReadState,
  Snapshot,
  SoftState,
  StateRole,
} from "./types.js";
import { isEmptyHardState, isEmptySnapshot, makeMessage, NONE, voteResponseType } from "./types.js";

export type CampaignType = "preElection" | "election" | "transfer";

/** Context attached to the vote requests of a leadership transfer: receivers must not ignore them
 *  because of the leader lease. */
export const CAMPAIGN_TRANSFER_CONTEXT = new TextEncoder().encode("CampaignTransfer");

const EMPTY_BYTES = new Uint8Array(0);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  /** The leader of the current term as far as we know. */
  lead = NONE;
  role: StateRole = "follower";
  readonly log: RaftLog;
  trk: ProgressTracker;
  /** Outbound messages, taken by RawNode.ready(). */
  msgs: Message[] = [];
  /** Answers to readIndex requests, taken by RawNode.ready(). */
  readStates: ReadState[] = [];
  /** The node leadership is being transferred to, or NONE. */
  leadTransferee = NONE;
  /** Index of the latest conf change proposed by this leader; a new one waits until it is applied. */
  pendingConfIndex = 0;

  /** Ticks since the last election timeout reset (followers, candidates) or check-quorum round (leader). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  private readonly maxMsgSize: number;
  private readonly disableProposalForwarding: boolean;
  private readonly random: RandomSource;
  private readonly logger: RaftLogger;

  private readOnly = new ReadOnly();
  /** Read requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  private stepFn: (m: Message) => void;
  private tickFn: () => void;

  constructor(config: Config) {
    const c = resolveConfig(config);
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.maxMsgSize = c.maxSizePerMsg;
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.random = c.random;
    this.logger = c.logger;
    this.log = new RaftLog(c.storage, c.maxCommittedSizePerReady);
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);

    const { hardState, confState } = c.storage.initialState();
    this.setVoters(confState.voters);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.log.appliedTo(c.applied);

    this.stepFn = this.stepFollower;
    this.tickFn = this.tickElection;
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------------------------------------------
  // State

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftInvariantError(
        `${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Whether this node may become leader: a voter with no snapshot waiting to be persisted. */
  promotable(): boolean {
    return this.trk.isVoter(this.id) && this.log.unstable.snapshot === undefined;
  }

  // ---------------------------------------------------------------------------------------------------
  // Role transitions

  becomeFollower(term: number, lead: number): void {
    this.stepFn = this.stepFollower;
    this.reset(term);
    this.tickFn = this.tickElection;
    this.lead = lead;
    this.role = "follower";
  }

  becomeCandidate(): void {
    if (this.role === "leader") throw new RaftInvariantError("invalid transition [leader -> candidate]");
    this.stepFn = this.stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = this.tickElection;
    this.vote = this.id;
    this.role = "candidate";
  }

  /** A pre-candidate changes neither its term nor its vote (thesis 9.6). */
  becomePreCandidate(): void {
    if (this.role === "leader") throw new RaftInvariantError("invalid transition [leader -> pre-candidate]");
    this.stepFn = this.stepCandidate;
    this.trk.resetVotes();
    this.tickFn = this.tickElection;
    this.lead = NONE;
    this.role = "preCandidate";
  }

  becomeLeader(): void {
    if (this.role === "follower") throw new RaftInvariantError("invalid transition [follower -> leader]");
    this.stepFn = this.stepLeader;
    this.reset(this.term);
    this.tickFn = this.tickHeartbeat;
    this.lead = this.id;
    this.role = "leader";
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively forbid conf changes until everything in our log when elected is applied: an older
    // leader's uncommitted conf change may be in it (and committing an entry of our term comes first).
    this.pendingConfIndex = this.log.lastIndex();
    // The empty entry of the new term: committing it commits everything before it (paper 5.4.2).
    this.appendEntry([{ term: 0, index: 0, type: "normal", data: EMPTY_BYTES }]);
    this.logger.info("became leader", { id: this.id, term: this.term });
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    for (const id of this.trk.voters) {
      this.trk.progress.set(id, this.trk.newProgress(id === this.id ? last : 0, last + 1));
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.random.intn(this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------------------------------------------
  // Time

  tick(): void {
    this.tickFn();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: "MsgHup", from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: "MsgCheckQuorum", from: this.id }));
      // A transfer that did not complete within an election timeout is abandoned.
      if (this.role === "leader" && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: "MsgBeat", from: this.id }));
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Sending

  private send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (t === "MsgVote" || t === "MsgVoteResp" || t === "MsgPreVote" || t === "MsgPreVoteResp") {
      // Vote traffic carries its own term: the candidate's, or the future term of a pre-vote.
      if (m.term === 0) throw new RaftInvariantError(`term should be set when sending ${t}`);
    } else {
      if (m.term !== 0) throw new RaftInvariantError(`term should not be set when sending ${t} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are local messages of the leader's: no term.
      if (t !== "MsgProp" && t !== "MsgReadIndex") m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Send entries from pr.next to `to`, or a snapshot when they are compacted. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Send one MsgApp to `to` if its progress allows; with sendIfEmpty false, only if there are entries to
   * send. Returns whether a message was sent.
   */
  private maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termOrUndefined(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.log.entries(pr.next, this.maxMsgSize);
      } catch (err: unknown) {
        if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
      }
    }
    if (prevTerm === undefined || ents === undefined) return this.maybeSendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      makeMessage({
        type: "MsgApp",
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.log.committed,
      }),
    );
    const last = ents[ents.length - 1];
    pr.sentEntries(ents.length, last === undefined ? prevIndex : last.index, entriesSize(ents));
    return true;
  }

  private maybeSendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.logger.debug("not sending snapshot to a peer that is not recently active", { id: this.id, to });
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (err: unknown) {
      if (err instanceof SnapshotTemporarilyUnavailableError) {
        this.logger.debug("snapshot temporarily unavailable", { id: this.id, to });
        return false;
      }
      throw err;
    }
    if (isEmptySnapshot(snapshot)) throw new RaftInvariantError("need non-empty snapshot");
    this.send(makeMessage({ type: "MsgSnap", to, snapshot }));
    pr.becomeSnapshot(snapshot.metadata.index);
    this.logger.info("sent snapshot", { id: this.id, to, index: snapshot.metadata.index });
    return true;
  }

  /** Heartbeats carry min(match, commit): a follower must never commit entries it may not have. */
  private sendHeartbeat(to: number, ctx: Uint8Array): void {
    const pr = this.trk.progress.get(to);
    const commit = Math.min(pr?.match ?? 0, this.log.committed);
    this.send(makeMessage({ type: "MsgHeartbeat", to, commit, context: ctx }));
  }

  bcastAppend(): void {
    for (const id of this.trk.voters) if (id !== this.id) this.sendAppend(id);
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx() ?? EMPTY_BYTES);
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    for (const id of this.trk.voters) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  private sendTimeoutNow(to: number): void {
    this.send(makeMessage({ type: "MsgTimeoutNow", to }));
  }

  // ---------------------------------------------------------------------------------------------------
  // Log

  private appendEntry(es: readonly Entry[]): void {
    const li = this.log.lastIndex();
    const ents = es.map((e, i): Entry => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    const last = this.log.append(ents);
    // The leader's own log counts towards the quorum; the driver persists it before sending anything.
    this.trk.progress.get(this.id)?.maybeUpdate(last);
    this.maybeCommit();
  }

  /** Advance the commit index to what a majority holds, if that entry is of the current term. */
  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.trk.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.zeroTermOnOutOfBounds(this.log.committed) === this.term;
  }

  // ---------------------------------------------------------------------------------------------------
  // Elections

  private hup(t: CampaignType): void {
    if (this.role === "leader") return;
    if (!this.promotable()) {
      this.logger.warn("is unpromotable and can not campaign", { id: this.id });
      return;
    }
    if (this.log.hasUnappliedConfChanges()) {
      this.logger.warn("cannot campaign: committed conf changes are not applied yet", { id: this.id });
      return;
    }
    this.campaign(t);
  }

  campaign(t: CampaignType): void {
    let voteType: "MsgVote" | "MsgPreVote";
    let term: number;
    if (t === "preElection") {
      this.becomePreCandidate();
      voteType = "MsgPreVote";
      term = this.term + 1; // the term we would campaign in; ours stays unchanged
    } else {
      this.becomeCandidate();
      voteType = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, true) === "won") {
      // A single-voter configuration: our own vote is a quorum.
      if (t === "preElection") {
        this.campaign("election");
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    const context = t === "transfer" ? CAMPAIGN_TRANSFER_CONTEXT : EMPTY_BYTES;
    for (const id of this.trk.voters) {
      if (id === this.id) continue;
      this.send(makeMessage({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, context }));
    }
  }

  private poll(id: number, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---------------------------------------------------------------------------------------------------
  // Stepping

  /** Process one message. Throws ProposalDroppedError for a MsgProp that cannot be accepted. */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === "MsgVote" || m.type === "MsgPreVote") {
        const force = sameBytes(m.context, CAMPAIGN_TRANSFER_CONTEXT);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Leader lease (thesis 4.2.3): we heard from a live leader within the minimum election timeout,
          // so this candidate is disruptive (e.g. partitioned and rejoining); ignore it without
          // bumping our term.
          return;
        }
      }
      if (m.type === "MsgPreVote") {
        // Never change our term in response to a pre-vote.
      } else if (m.type === "MsgPreVoteResp" && !m.reject) {
        // A granted pre-vote carries the future term; we bump it only when the pre-vote is won.
      } else if (m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "MsgHeartbeat" || m.type === "MsgApp")) {
        // A stale leader (e.g. healed from a partition) would never learn of the new term if we just
        // ignored it: with check-quorum or pre-vote nobody bumps terms to make it step down. Answer so it
        // sees our term.
        this.send(makeMessage({ type: "MsgAppResp", to: m.from }));
      } else if (m.type === "MsgPreVote") {
        // Reject explicitly so a pre-candidate with a stale term learns ours.
        this.send(makeMessage({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true }));
      }
      return; // ignore any other message with a lower term
    }

    switch (m.type) {
      case "MsgHup":
        this.hup(this.preVote ? "preElection" : "election");
        return;
      case "MsgVote":
      case "MsgPreVote": {
        // We may vote if we already voted for this candidate in this term, if we have not voted and know no
        // leader, or if this is a pre-vote for a later term; and only if its log is as up to date as ours.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === "MsgPreVote" && m.term > this.term);
        const respType = voteResponseType(m.type);
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.send(makeMessage({ type: respType, to: m.from, term: m.term }));
          if (m.type === "MsgVote") {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(makeMessage({ type: respType, to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        this.stepFn(m);
    }
  }

  private stepLeader(m: Message): void {
    // Messages that need no progress of the sender.
    switch (m.type) {
      case "MsgBeat":
        this.bcastHeartbeat();
        return;
      case "MsgCheckQuorum":
        if (!this.trk.quorumActive(this.id)) {
          this.logger.warn("stepped down to follower since quorum is not active", { id: this.id, term: this.term });
          this.becomeFollower(this.term, NONE);
        }
        // Everyone (but us) must prove to be active again before the next check.
        for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false;
        return;
      case "MsgProp":
        this.leaderPropose(m);
        return;
      case "MsgReadIndex":
        if (this.trk.isSingleton() && this.trk.isVoter(this.id)) {
          this.respondToReadIndex(m, this.log.committed);
        } else if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may lag behind the previous leader's until an entry of our term commits.
          this.pendingReadIndexMessages.push(m);
        } else {
          this.startReadIndex(m);
        }
        return;
      default:
        break;
    }

    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case "MsgAppResp":
        this.handleAppendResponse(m, pr);
        return;
      case "MsgHeartbeatResp":
        this.handleHeartbeatResponse(m, pr);
        return;
      case "MsgSnapStatus":
        if (pr.state !== "snapshot") return;
        if (m.reject) pr.pendingSnapshot = 0; // failed: the next probe will find out what is needed
        pr.becomeProbe();
        // Wait for the follower's MsgAppResp (success) or a heartbeat interval (failure) before probing.
        pr.probeSent = true;
        return;
      case "MsgUnreachable":
        // Optimistic pipelining to an unreachable peer is likely to lose messages: probe instead.
        if (pr.state === "replicate") pr.becomeProbe();
        return;
      case "MsgTransferLeader":
        this.handleTransferLeader(m, pr);
        return;
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    if (m.entries.length === 0) throw new ProposalDroppedError("empty");
    if (!this.trk.isVoter(this.id)) throw new ProposalDroppedError("not-member");
    if (this.leadTransferee !== NONE) throw new ProposalDroppedError("leader-transfer");
    const li = this.log.lastIndex();
    const ents = m.entries.map((e, i): Entry => {
      if (e.type !== "confChange") return e;
      if (this.pendingConfIndex > this.log.applied) {
        // One membership change at a time (thesis 4.1): the previous one must be applied first.
        if (m.entries.length === 1) throw new ProposalDroppedError("conf-change-pending");
        this.logger.warn("replacing conf change with an empty entry: a previous one is not applied", { id: this.id });
        return { term: 0, index: 0, type: "normal", data: EMPTY_BYTES };
      }
      this.pendingConfIndex = li + i + 1;
      return e;
    });
    this.appendEntry(ents);
    this.bcastAppend();
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Back up to the last index whose term is <= the term the follower has at rejectHint: entries
      // above it cannot match (thesis 5.3's optimization, one round trip per term rather than per entry).
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0) nextProbeIdx = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        if (pr.state === "replicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    // Also handle an ack of exactly our match point while probing: it moves the peer to replicate.
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === "probe")) return;
    if (pr.state === "probe") {
      pr.becomeReplicate();
    } else if (pr.state === "snapshot" && pr.match + 1 >= this.log.firstIndex()) {
      // Caught up through the snapshot (whichever it was): replicate from the log again.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === "replicate") {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      // We may have held back the latest commit index from this peer: send it now.
      this.sendAppend(m.from);
    }
    // Fill the pipeline.
    while (this.maybeSendAppend(m.from, false)) {
      // keep sending
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.logger.info("sent MsgTimeoutNow after the transferee caught up", { id: this.id, to: m.from });
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower is alive: if the pipeline is full, free a slot so that at least one message goes out
    // (the replies to the others may have been lost).
    if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);

    if (m.context.byteLength === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined || this.trk.voteResultOf(acks) !== "won") return;
    for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
  }

  private handleTransferLeader(m: Message, pr: Progress): void {
    const transferee = m.from;
    const last = this.leadTransferee;
    if (last !== NONE) {
      if (last === transferee) return; // already in progress
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return; // already leader
    // The transfer must complete within one election timeout, or it is aborted.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(transferee);
    } else {
      this.sendAppend(transferee); // TimeoutNow follows once it has caught up
    }
  }

  private startReadIndex(m: Message): void {
    const ctx = m.entries[0]?.data ?? EMPTY_BYTES;
    this.readOnly.addRequest(this.log.committed, m);
    this.readOnly.recvAck(this.id, ctx);
    this.bcastHeartbeatWithCtx(ctx);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.startReadIndex(m);
  }

  private respondToReadIndex(req: Message, index: number): void {
    const ctx = req.entries[0]?.data ?? EMPTY_BYTES;
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: ctx });
    } else {
      this.send(makeMessage({ type: "MsgReadIndexResp", to: req.from, index, entries: req.entries }));
    }
  }

  private stepCandidate(m: Message): void {
    // A pre-candidate counts pre-votes for the term it would campaign in; a candidate counts votes.
    const myVoteResp: MessageType = this.role === "preCandidate" ? "MsgPreVoteResp" : "MsgVoteResp";
    switch (m.type) {
      case "MsgProp":
        throw new ProposalDroppedError("no-leader");
      case "MsgApp":
        this.becomeFollower(m.term, m.from); // always m.term === this.term here
        this.handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case "MsgTimeoutNow":
        return; // we are campaigning already
      default:
        break;
    }
    if (m.type !== myVoteResp) return;
    // Ignore grants from an earlier round: a granted pre-vote carries exactly the term we campaign for.
    if (m.type === "MsgPreVoteResp" && !m.reject && m.term !== this.term + 1) return;
    const result = this.poll(m.from, !m.reject);
    if (result === "won") {
      if (this.role === "preCandidate") {
        this.campaign("election");
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === "lost") {
      // A pre-candidate that lost keeps its term; a candidate that lost waits for the next timeout.
      this.becomeFollower(this.term, NONE);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "MsgProp":
        if (this.lead === NONE) throw new ProposalDroppedError("no-leader");
        if (this.disableProposalForwarding) throw new ProposalDroppedError("not-leader");
        this.forwardToLeader(m);
        return;
      case "MsgApp":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case "MsgHeartbeat":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case "MsgSnap":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case "MsgTransferLeader":
        if (this.lead === NONE) return;
        this.forwardToLeader(m);
        return;
      case "MsgForgetLeader":
        // The leader is known to be gone (its connection was refused): with no leader, this follower
        // grants pre-votes at once instead of waiting out the leader's lease, so a quorum of followers
        // that saw it go can elect a successor without an election timeout. Stays in its term and
        // does not campaign by itself; the next message of a live leader brings the leader back.
        if (this.lead !== NONE) {
          this.logger.info("forgetting the leader", { id: this.id, leader: this.lead, term: this.term });
          this.lead = NONE;
        }
        return;
      case "MsgTimeoutNow":
        // The leader asks us to take over: campaign now, without pre-vote (no partition to recover from)
        // and with the transfer context so that followers within their lease still answer.
        this.hup("transfer");
        return;
      case "MsgReadIndex":
        if (this.lead === NONE) throw new ProposalDroppedError("no-leader");
        this.forwardToLeader(m);
        return;
      case "MsgReadIndexResp": {
        const ctx = m.entries[0]?.data;
        if (m.entries.length !== 1 || ctx === undefined) return;
        this.readStates.push({ index: m.index, requestCtx: ctx });
        return;
      }
      default:
        return;
    }
  }

  /** Pass a request on to the leader. Incoming messages are never modified (a transport may share them):
   *  the forwarded copy keeps the original sender (or the transferee) and gets our term where due. */
  private forwardToLeader(m: Message): void {
    this.send(makeMessage({ type: m.type, to: this.lead, from: m.from, entries: m.entries }));
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index matches the leader's log already.
      this.send(makeMessage({ type: "MsgAppResp", to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(makeMessage({ type: "MsgAppResp", to: m.from, index: lastNew }));
      return;
    }
    // Our log lacks (m.index, m.logTerm). Hint the leader at the last entry that may match: the last index
    // <= m.index whose term is <= m.logTerm (entries with a larger term cannot match).
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      makeMessage({
        type: "MsgAppResp",
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(makeMessage({ type: "MsgHeartbeatResp", to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined) return;
    if (this.restore(s)) {
      this.logger.info("restored snapshot", { id: this.id, index: s.metadata.index, term: s.metadata.term });
      this.send(makeMessage({ type: "MsgAppResp", to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(makeMessage({ type: "MsgAppResp", to: m.from, index: this.log.committed }));
    }
  }

  /** Install a snapshot from the leader. Returns false when it is not needed. */
  private restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.role !== "follower") {
      this.logger.warn("refusing a snapshot while not a follower", { id: this.id, role: this.role });
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We hold the entry the snapshot ends at, hence everything before it: just commit up to it.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.setVoters(s.metadata.confState.voters);
    return true;
  }

  // ---------------------------------------------------------------------------------------------------
  // Membership

  /** Replace the configuration wholesale (from storage or a snapshot); progress starts afresh. */
  private setVoters(voters: readonly number[]): void {
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    const last = this.log.lastIndex();
    for (const id of voters) {
      this.trk.addVoter(id, this.trk.newProgress(id === this.id ? last : 0, last + 1));
    }
  }

  /**
   * Apply a committed membership change (thesis 4.1, one server at a time). Called by the application
   * when it applies the confChange entry. Returns the new configuration.
   */
  applyConfChange(cc: ConfChange): ConfState {
    if (cc.nodeId === NONE) return this.trk.confState(); // a conf change replaced by an empty one
    let added = false;
    if (cc.type === "addNode") {
      if (!this.trk.isVoter(cc.nodeId)) {
        const pr = this.trk.newProgress(0, this.log.lastIndex() + 1);
        // A new member has had no chance to talk to us yet; do not let check-quorum count it as dead.
        pr.recentActive = true;
        this.trk.addVoter(cc.nodeId, pr);
        added = true;
      }
    } else {
      this.trk.removeVoter(cc.nodeId);
    }
    this.afterConfChange(added ? cc.nodeId : NONE);
    return this.trk.confState();
  }

  private afterConfChange(added: number): void {
    if (this.role !== "leader") return;
    if (!this.trk.isVoter(this.id)) {
      // We were removed. Hand over to the most up-to-date member if one has our whole log, then step down.
      let best: number = NONE;
      let bestMatch = -1;
      for (const [id, pr] of this.trk.progress) {
        if (pr.match > bestMatch) {
          best = id;
          bestMatch = pr.match;
        }
      }
      this.becomeFollower(this.term, NONE);
      if (best !== NONE && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
      return;
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    // The quorum changed: the commit index may move.
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      for (const id of this.trk.voters) if (id !== this.id) this.maybeSendAppend(id, false);
    }
    if (added !== NONE) this.sendAppend(added);
  }

  /** Advance the log's cursors after the application handled a Ready (see RawNode.advance). */
  advance(appliedTo: number, stableEntry: Entry | undefined, stableSnapshotIndex: number): void {
    if (appliedTo > 0) this.log.appliedTo(appliedTo);
    if (stableEntry !== undefined) this.log.stableTo(stableEntry.index, stableEntry.term);
    if (stableSnapshotIndex > 0) this.log.stableSnapTo(stableSnapshotIndex);
  }
}
