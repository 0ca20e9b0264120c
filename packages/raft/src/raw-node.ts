// RawNode: the application's handle on the Raft core. Synchronous and single-threaded: the driver feeds
// it ticks, messages and proposals, and collects the work to do as Ready values (see ready.ts for the
// order in which a Ready must be handled).
import type { Config } from "./config.js";
import { encodeConfChange } from "./conf-change-codec.js";
import {
  ProposalDroppedError,
  RaftInvariantError,
  ReadyNotAdvancedError,
  StepLocalMessageError,
  StepPeerNotFoundError,
} from "./errors.js";
import { Raft } from "./raft.js";
import type { Ready } from "./ready.js";
import type { BasicStatus, Status } from "./status.js";
import { basicStatusOf, statusOf } from "./status.js";
import type { ConfChange, ConfState, Entry, HardState, Message, SoftState } from "./types.js";
import { hardStateEqual, isEmptyHardState, isLocalMessage, isResponseMessage, makeMessage } from "./types.js";

export type SnapshotStatus = "finish" | "failure";

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** The Ready handed out and not yet advanced. */
  private inFlight: Ready | undefined = undefined;

  /** Create a node from the state held by config.storage (empty for a new node, persisted on restart). */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * Start a new cluster: the first entries of the log add each peer (every founding member bootstraps
   * with the same list, so their logs agree). Only on an empty storage. The entries come out in the
   * first Ready, as entries to persist and as committed entries to apply (call applyConfChange for
   * each, which is idempotent here); members added later learn the founders from these entries.
   *
   * A founder must bootstrap again whenever it starts with an empty storage (for instance after crashing
   * before its first Ready was persisted). Never let a founder learn the bootstrap entries from a peer:
   * replaying them one by one, it would pass through a configuration of which it is the only member,
   * where it could elect itself.
   */
  bootstrap(peers: readonly number[]): void {
    if (peers.length === 0) throw new RaftInvariantError("must provide at least one peer to bootstrap");
    const r = this.raft;
    if (r.log.lastIndex() !== 0) throw new RaftInvariantError("can't bootstrap a nonempty storage");
    // Report the initial hard state in the first Ready.
    this.prevHardState = { term: 0, vote: 0, commit: 0 };
    r.becomeFollower(1, 0);
    const ents: Entry[] = peers.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: "confChange",
      data: encodeConfChange({ type: "addNode", nodeId: id, context: new Uint8Array(0) }),
    }));
    r.log.append(ents);
    // Like a snapshot: these entries are committed by fiat, and their configuration is in force now.
    r.log.committed = ents.length;
    for (const id of peers) r.applyConfChange({ type: "addNode", nodeId: id, context: new Uint8Array(0) });
  }

  /** Advance the logical clock by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (with pre-vote if configured). */
  campaign(): void {
    this.raft.step(makeMessage({ type: "MsgHup" }));
  }

  /**
   * Propose data to be appended to the log. Throws ProposalDroppedError when this node cannot take it
   * (no leader known, leadership transfer in progress, ...). Success does not mean the entry will commit:
   * watch committed entries (a forwarded proposal can be lost; retry on timeout).
   */
  propose(data: Uint8Array): void {
    this.raft.step(
      makeMessage({ type: "MsgProp", from: this.raft.id, entries: [{ term: 0, index: 0, type: "normal", data }] }),
    );
  }

  /**
   * Propose several entries at once, in order: one message, so the leader appends them together and
   * replicates them in one append per follower. Same failure semantics as propose (all or none).
   */
  proposeBatch(data: readonly Uint8Array[]): void {
    if (data.length === 0) return;
    this.raft.step(
      makeMessage({
        type: "MsgProp",
        from: this.raft.id,
        entries: data.map((d) => ({ term: 0, index: 0, type: "normal" as const, data: d })),
      }),
    );
  }

  /** Propose a membership change (one pending at a time; see propose for failure semantics). */
  proposeConfChange(cc: ConfChange): void {
    const data = encodeConfChange(cc);
    this.raft.step(
      makeMessage({
        type: "MsgProp",
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: "confChange", data }],
      }),
    );
  }

  /** Apply a committed membership change; call it when applying its confChange entry. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Step a message received from a peer. Throws StepLocalMessageError for message types that are only
   * ever local and StepPeerNotFoundError for a response from a non-member. A forwarded proposal the
   * leader cannot accept is dropped silently (its sender already returned).
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new StepLocalMessageError(m.type);
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError(m.from);
    try {
      this.raft.step(m);
    } catch (err: unknown) {
      if (err instanceof ProposalDroppedError) return;
      throw err;
    }
  }

  /** Ask the leader to hand leadership over to `transferee` (sent to the leader if we are not it). */
  transferLeader(transferee: number): void {
    this.raft.step(makeMessage({ type: "MsgTransferLeader", from: transferee }));
  }

  /**
   * Request a linearizable read. The answer comes as a ReadState with the same context in a later Ready
   * (or never, if the request or its answer is lost or leadership changes: retry after a timeout with a
   * new context). The context must be unique among pending requests. Throws ProposalDroppedError when no
   * leader is known.
   */
  readIndex(requestCtx: Uint8Array): void {
    this.raft.step(
      makeMessage({ type: "MsgReadIndex", entries: [{ term: 0, index: 0, type: "normal", data: requestCtx }] }),
    );
  }

  /**
   * A follower forgets its leader (etcd's ForgetLeader): for when the leader is known to be gone.
   * It then grants pre-votes at once rather than after the leader's lease; ignored unless a follower.
   */
  forgetLeader(): void {
    this.raft.step(makeMessage({ type: "MsgForgetLeader" }));
  }

  /** The transport failed to reach `id`: stop pipelining to it. */
  reportUnreachable(id: number): void {
    this.raft.step(makeMessage({ type: "MsgUnreachable", from: id }));
  }

  /** Outcome of sending a MsgSnap to `id`. Must be reported, or the leader will wait for it forever. */
  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.raft.step(makeMessage({ type: "MsgSnapStatus", from: id, reject: status === "failure" }));
  }

  /** Whether ready() has something to hand out (false while a Ready awaits advance()). */
  hasReady(): boolean {
    if (this.inFlight !== undefined) return false;
    const r = this.raft;
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.log.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.log.unstableEntries().length > 0) return true;
    return r.log.hasNextCommittedEntries();
  }

  /** Take the work to do. Call advance(rd) once it is handled, before calling ready() again. */
  ready(): Ready {
    if (this.inFlight !== undefined) throw new ReadyNotAdvancedError();
    const r = this.raft;
    const rd: Ready = {
      readStates: r.readStates,
      entries: [...r.log.unstableEntries()],
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      mustSync: false,
    };
    const soft = r.softState();
    if (soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      rd.mustSync = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
      this.prevHardState = hs;
    }
    const snap = r.log.unstable.snapshot;
    if (snap !== undefined) rd.snapshot = snap;
    if (rd.entries.length > 0 || snap !== undefined) rd.mustSync = true;

    r.msgs = [];
    r.readStates = [];
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) r.log.acceptApplying(lastCommitted.index);
    this.inFlight = rd;
    return rd;
  }

  /** The Ready was handled: its entries and snapshot are persisted and its committed entries applied. */
  advance(rd: Ready): void {
    if (rd !== this.inFlight) throw new RaftInvariantError("advance() of a Ready that is not the last one handed out");
    this.inFlight = undefined;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    const snapIndex = rd.snapshot?.metadata.index ?? 0;
    const applied = Math.max(lastCommitted?.index ?? 0, snapIndex);
    this.raft.advance(applied, rd.entries[rd.entries.length - 1], snapIndex);
  }

  status(): Status {
    return statusOf(this.raft);
  }

  /** Status without the per-peer progress (cheap). */
  basicStatus(): BasicStatus {
    return basicStatusOf(this.raft);
  }
}
