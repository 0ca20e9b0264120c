// The Raft driver of a manager: it owns the RawNode, its disk and its transport, and keeps the
// one order that Raft needs for every Ready: persist (fsync when asked), send, apply, advance.
// It applies committed entries to a state machine (the store) on every manager alike, tracks the
// members of the group, takes snapshots every `snapshotInterval` entries, serves linearizable
// reads through read index, and tells the manager when it gains or loses leadership.
import { randomBytes } from "node:crypto";
import {
  ErrorCode,
  InternalRaftRequest,
  RaftMember,
  RaftSnapshotData,
  ShoalError,
  componentLogger,
  errorMessage,
  type Logger,
  type TlsMaterial,
} from "@shoal/shared";
import {
  RawNode,
  seededRandom,
  decodeConfChange,
  forceNewCluster,
  isEmptySnapshot,
  openRaftDisk,
  type ConfChange,
  type ConfState,
  type DataKey,
  type Entry,
  type KeyRing,
  type Message,
  type RaftDisk,
  type RaftLogger,
  type Ready,
  type Snapshot,
} from "@shoal/raft";
import { RaftTransport } from "./transport.js";

/** What Raft replicates: every manager applies the same entries in the same order. */
export interface StateMachine {
  /** Applies a committed request; must be deterministic. */
  apply(index: number, request: InternalRaftRequest): void;
  /** The whole state, for a snapshot. */
  save(): Uint8Array;
  /** The same, encoded without blocking the event loop for long; taken at the moment of the call. */
  saveAsync?(): Promise<Uint8Array>;
  /** Replaces the whole state with a snapshot's. */
  restore(data: Uint8Array, index: number): void;
}

export interface RaftNodeOptions {
  readonly raftId: number;
  /** This manager's node id and raft address, as other members reach it. */
  readonly nodeId: string;
  readonly addr: string;
  /** This manager's certificate, for mutual TLS with the other managers. */
  readonly material: TlsMaterial;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly stateMachine: StateMachine;
  /** Start a new one-member cluster when the data dir is empty (else wait to be added). */
  readonly bootstrap: boolean;
  /**
   * Recover from a lost quorum: rewrite the data dir into a group of this member alone, keeping
   * every entry of its log (see forceNewCluster in @shoal/raft), then start as its leader.
   */
  readonly forceNewCluster?: boolean;
  /** Members known from joining, used until the leader's snapshot says who they are. */
  readonly knownMembers?: readonly RaftMember[];
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  /** Take a snapshot after this many applied entries; default 10 000. */
  readonly snapshotInterval?: number;
  /** fsync the log; default true. */
  readonly sync?: boolean;
  onLeadership?(isLeader: boolean): void;
  /** This manager was removed from the group. */
  onRemoved?(): void;
  /** Data keys of the Raft files (encryption at rest, see encryption/raft-keys.ts); clear without. */
  readonly dataKeys?: KeyRing;
  /** A snapshot replaced the data under older data keys: those not in `inUse` may be forgotten. */
  onDataKeysReleased?(inUse: ReadonlySet<string>): void;
}

export class NotLeaderError extends ShoalError {
  constructor(readonly leaderAddr: string | undefined) {
    super(ErrorCode.NotLeader, leaderAddr ? `not the leader; the leader is ${leaderAddr}` : "no leader is known now");
  }
}

interface Pending {
  resolve(index: number): void;
  reject(err: Error): void;
}

interface ReadWaiter {
  index: number;
  resolve(): void;
  reject(err: Error): void;
}

export class RaftNode {
  private readonly logger: Logger;
  private disk!: RaftDisk;
  private node!: RawNode;
  readonly transport: RaftTransport;
  private readonly members = new Map<number, RaftMember>();
  private confState: ConfState = { voters: [] };
  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private failed: Error | undefined;
  private leader = 0;
  private isLeaderNow = false;
  private term = 0;
  private applied = 0;
  private snapshotIndex = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly batch: { id: number; data: Uint8Array }[] = [];
  private snapshotting = false;
  /** Counts leadership changes, so a late confirmation of an old term is ignored. */
  private leadershipTerm = 0;
  /** Whether onLeadership(true) was called for the present leadership. */
  private announcedLeader = false;
  private preparedSnapshot: Snapshot | undefined;
  /** Take a snapshot at the next chance, whatever the interval (after a data key rotation). */
  private snapshotSoon = false;
  private readonly reads = new Map<string, ReadWaiter>();
  private readonly appliedWaiters: ReadWaiter[] = [];
  private confChangeWaiter: (Pending & { cc: ConfChange }) | undefined;
  private nextProposalId = Number.parseInt(randomBytes(5).toString("hex"), 16) * 1024;
  /** Senders that are not members, refused (each logged once). */
  private readonly refusedSenders = new Set<number>();
  /**
   * A joiner hears the members that admitted it (the join response) until it applies its own
   * admission: the leader's snapshot may predate them (it may name the founder alone), and the
   * entries that add them come from the leader, which must not be refused meanwhile.
   */
  private readonly admittedBy = new Set<number>();

  constructor(private readonly options: RaftNodeOptions) {
    this.logger = componentLogger(options.logger, "raft", { raftId: options.raftId });
    this.transport = new RaftTransport({
      logger: options.logger,
      material: options.material,
      events: {
        unreachable: (id) => this.safely(() => this.node.reportUnreachable(id)),
        snapshotStatus: (id, ok) => this.safely(() => this.node.reportSnapshot(id, ok ? "finish" : "failure")),
      },
    });
  }

  get raftId(): number {
    return this.options.raftId;
  }

  async start(): Promise<void> {
    const raftLogger = toRaftLogger(this.logger);
    const { dataKeys, onDataKeysReleased } = this.options;
    this.disk = await openRaftDisk(this.options.dataDir, {
      logger: raftLogger,
      sync: this.options.sync ?? true,
      ...(dataKeys === undefined ? {} : { keys: dataKeys }),
      ...(onDataKeysReleased === undefined ? {} : { onKeysReleased: (inUse) => onDataKeysReleased(inUse) }),
    });
    const storage = this.disk.storage;
    let snapshot = storage.snapshot();
    let founded = false;
    if (isEmptySnapshot(snapshot) && storage.lastIndex() === 0 && this.options.bootstrap) {
      founded = true;
      snapshot = this.initialSnapshot();
      await this.disk.persist({ snapshot, entries: [], hardState: { term: 1, vote: 0, commit: 1 }, mustSync: true });
      this.logger.info("started a new cluster");
    } else if (this.options.forceNewCluster) {
      await this.forceNewCluster();
      snapshot = storage.snapshot();
      founded = true;
    }
    for (const m of this.options.knownMembers ?? []) this.admittedBy.add(m.raftId);
    if (!isEmptySnapshot(snapshot)) this.installSnapshot(snapshot);
    else {
      for (const m of this.options.knownMembers ?? []) this.members.set(m.raftId, m);
      this.syncPeers();
    }
    this.node = new RawNode({
      id: this.options.raftId,
      storage,
      electionTick: this.options.electionTick ?? 10,
      heartbeatTick: this.options.heartbeatTick ?? 1,
      applied: this.applied,
      checkQuorum: true,
      preVote: true,
      random: seededRandom(randomBytes(4).readUInt32LE(0)),
      logger: raftLogger,
    });
    // Alone in a group just made (a new cluster, a forced one): lead at once rather than after an
    // election timeout.
    if (founded) this.node.campaign();
    this.ticker = setInterval(() => {
      this.safely(() => this.node.tick());
    }, this.options.tickMs ?? 50);
    this.schedule();
  }

  /** A snapshot at index 1 that holds only this member: the start of a new cluster. */
  private initialSnapshot(): Snapshot {
    const self = RaftMember.create({ raftId: this.raftId, nodeId: this.options.nodeId, addr: this.options.addr });
    const data = RaftSnapshotData.encode({ members: [self], store: this.options.stateMachine.save() }).finish();
    return { data, metadata: { index: 1, term: 1, confState: { voters: [this.raftId] } } };
  }

  /**
   * Rewrites the data dir into a one-member group: the state machine folds the snapshot and
   * every entry after it (conf changes are skipped: the membership is replaced by this member,
   * at its present address), and the result becomes a snapshot at a new term.
   */
  private async forceNewCluster(): Promise<void> {
    const sm = this.options.stateMachine;
    const forced = await forceNewCluster(this.disk, {
      id: this.raftId,
      snapshotData: (base, entries) => {
        if (!isEmptySnapshot(base)) sm.restore(RaftSnapshotData.decode(base.data).store, base.metadata.index);
        for (const e of entries) {
          if (e.type === "normal" && e.data.length > 0) sm.apply(e.index, InternalRaftRequest.decode(e.data));
        }
        const self = RaftMember.create({ raftId: this.raftId, nodeId: this.options.nodeId, addr: this.options.addr });
        return RaftSnapshotData.encode({ members: [self], store: sm.save() }).finish();
      },
    });
    this.logger.warn(
      {
        index: forced.snapshot.metadata.index,
        term: forced.hardState.term,
        previousVoters: forced.previousVoters.map((id) => id.toString(16)),
        previousCommit: forced.previousCommit,
        uncommittedKept: forced.uncommittedKept,
      },
      "forced a new cluster of this manager alone, keeping the whole log",
    );
  }

  /**
   * Steps a message that arrived from a peer. Messages from senders that are not members are
   * refused: a removed manager, or one left out by a forced new cluster, must not disturb the
   * group (its higher term would depose the leader). Until this member knows the group (a new
   * joiner before the leader's snapshot), every sender is heard.
   */
  step(m: Message): void {
    if (this.stopped || !this.node) return;
    if (m.from !== this.raftId && this.members.size > 0 && !this.members.has(m.from) && !this.admittedBy.has(m.from)) {
      if (!this.refusedSenders.has(m.from)) {
        this.refusedSenders.add(m.from);
        this.logger.warn(
          { from: m.from.toString(16), type: m.type, term: m.term },
          "refused raft messages from a non-member",
        );
      }
      return;
    }
    this.safely(() => this.node.step(m));
  }

  /** Proposes a request; resolves with its log index once it is committed and applied here. */
  propose(actions: InternalRaftRequest["actions"], signal?: AbortSignal): Promise<number> {
    this.assertUsable();
    if (!this.isLeaderNow) return Promise.reject(new NotLeaderError(this.leaderAddr()));
    const id = this.nextProposalId++;
    const data = InternalRaftRequest.encode({ id, actions }).finish();
    return new Promise<number>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        reject(new ShoalError(ErrorCode.Cancelled, "proposal cancelled; it may still be applied"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (index) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(index);
        },
        reject: (err) => {
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        },
      });
      this.batch.push({ id, data });
      if (this.batch.length === 1) setImmediate(() => this.flushProposals());
    });
  }

  /** Proposes what arrived in this turn of the event loop as one message: one append per follower. */
  private flushProposals(): void {
    const batch = this.batch.splice(0);
    if (batch.length === 0 || this.stopped) return;
    try {
      this.node.proposeBatch(batch.map((p) => p.data));
    } catch (err: unknown) {
      this.logger.debug({ err: errorMessage(err), proposals: batch.length }, "proposals dropped");
      for (const { id } of batch) {
        const waiter = this.pending.get(id);
        this.pending.delete(id);
        waiter?.reject(new NotLeaderError(this.leaderAddr()));
      }
      return;
    }
    this.schedule();
  }

  /** Resolves once this manager has applied everything committed before the call (read index). */
  async linearizableRead(signal?: AbortSignal): Promise<void> {
    this.assertUsable();
    const ctx = randomBytes(8);
    const key = ctx.toString("hex");
    const index = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(key);
        reject(new ShoalError(ErrorCode.Unavailable, "read index: no quorum confirmed the leader in time"));
      }, 5000);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        this.reads.delete(key);
        reject(new ShoalError(ErrorCode.Cancelled, "read cancelled"));
      });
      this.reads.set(key, {
        index: 0,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.reads.get(key)?.index ?? 0);
        },
        reject,
      });
      this.safely(() => this.node.readIndex(ctx));
      this.schedule();
    });
    this.reads.delete(key);
    await this.waitApplied(index);
  }

  /** Resolves once the entry at `index` has been applied here. */
  waitApplied(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  /** Adds or removes a member; resolves when the change is applied. One change at a time. */
  changeMembership(cc: ConfChange): Promise<number> {
    this.assertUsable();
    if (!this.isLeaderNow) return Promise.reject(new NotLeaderError(this.leaderAddr()));
    if (this.confChangeWaiter) {
      return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, "another membership change is in progress"));
    }
    return new Promise<number>((resolve, reject) => {
      this.confChangeWaiter = { cc, resolve, reject };
      try {
        this.node.proposeConfChange(cc);
      } catch (err: unknown) {
        this.confChangeWaiter = undefined;
        reject(new NotLeaderError(this.leaderAddr()));
        this.logger.debug({ err: errorMessage(err) }, "membership change dropped");
        return;
      }
      this.schedule();
    });
  }

  /** Hands leadership to the most up-to-date other member and waits (up to `timeoutMs`) for it. */
  async transferLeadership(timeoutMs = 2000): Promise<boolean> {
    if (!this.isLeaderNow || this.members.size < 2) return false;
    const progress = this.node.status().progress ?? new Map();
    let best = 0;
    let bestMatch = -1;
    for (const [id, p] of progress) {
      if (id !== this.raftId && p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    if (best === 0) return false;
    this.logger.info({ to: best }, "transferring leadership");
    this.node.transferLeader(best);
    this.schedule();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.isLeaderNow) await new Promise((r) => setTimeout(r, 20));
    return !this.isLeaderNow;
  }

  get isLeader(): boolean {
    return this.isLeaderNow;
  }

  get leaderId(): number {
    return this.leader;
  }

  leaderAddr(): string | undefined {
    return this.leader === 0 ? undefined : this.members.get(this.leader)?.addr;
  }

  /** Whether this node still hears the members that admitted it (its own admission is not applied yet). */
  get admitting(): boolean {
    return this.admittedBy.size > 0;
  }

  memberList(): RaftMember[] {
    return [...this.members.values()].map((m) => RaftMember.fromPartial(m));
  }

  status(): {
    term: number;
    commit: number;
    applied: number;
    leader: number;
    progress: Map<number, { match: number; recentActive: boolean }>;
  } {
    const st = this.node.status();
    const progress = new Map<number, { match: number; recentActive: boolean }>();
    for (const [id, p] of st.progress ?? new Map()) progress.set(id, { match: p.match, recentActive: p.recentActive });
    return {
      term: st.hardState.term,
      commit: st.hardState.commit,
      applied: this.applied,
      leader: this.leader,
      progress,
    };
  }

  private assertUsable(): void {
    if (this.failed) throw new ShoalError(ErrorCode.Internal, `raft node failed: ${this.failed.message}`);
    if (this.stopped) throw new ShoalError(ErrorCode.Unavailable, "this manager is stopping");
    // The Control API answers from the moment the manager serves, while start() still opens the disk.
    if (!this.node) throw new ShoalError(ErrorCode.Unavailable, "this manager is still starting");
  }

  private safely(fn: () => void): void {
    if (this.stopped || this.failed) return;
    try {
      fn();
    } catch (err: unknown) {
      // A message from a removed or unknown peer and the like: log it, keep going.
      this.logger.debug({ err: errorMessage(err) }, "raft step refused");
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.processReady();
    });
  }

  private async processReady(): Promise<void> {
    if (this.running || this.stopped || this.failed || !this.node) return;
    this.running = true;
    try {
      if (this.preparedSnapshot || this.snapshotSoon) await this.maybeSnapshot();
      while (!this.stopped && this.node.hasReady()) {
        const rd = this.node.ready();
        await this.disk.persist({
          hardState: rd.hardState,
          entries: rd.entries,
          snapshot: rd.snapshot,
          mustSync: rd.mustSync,
        });
        if (rd.hardState) this.term = rd.hardState.term;
        if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.role === "leader");
        this.transport.send(rd.messages);
        if (rd.snapshot && !isEmptySnapshot(rd.snapshot)) this.installSnapshot(rd.snapshot);
        this.applyEntries(rd.committedEntries);
        this.answerReads(rd);
        this.node.advance(rd);
        await this.maybeSnapshot();
      }
    } catch (err: unknown) {
      // A failed write leaves us unsure of what is durable: stop taking part rather than risk safety.
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.logger.fatal({ err: errorMessage(err) }, "raft node failed; stopping it");
      this.rejectAll(new ShoalError(ErrorCode.Internal, `raft node failed: ${this.failed.message}`));
    } finally {
      this.running = false;
    }
    if (!this.stopped && !this.failed && (this.node.hasReady() || this.preparedSnapshot)) this.schedule();
  }

  private onSoftState(lead: number, isLeader: boolean): void {
    if (lead !== this.leader) this.logger.info({ leader: lead, term: this.term }, "leader changed");
    this.leader = lead;
    if (isLeader !== this.isLeaderNow) {
      this.isLeaderNow = isLeader;
      const term = ++this.leadershipTerm;
      if (!isLeader) {
        // Proposals in flight may be in the log of a majority already, and the next leader may
        // commit them: their outcome is unknown, not "refused" (a client may not retry blindly).
        this.rejectProposals(
          new ShoalError(
            ErrorCode.Unavailable,
            "this manager lost leadership before the write was committed; it may still be applied",
          ),
        );
        if (this.announcedLeader) {
          this.announcedLeader = false;
          this.options.onLeadership?.(false);
        }
        return;
      }
      // Leader-only work starts once this leader has applied everything committed before its
      // term: a read index is answered only after an entry of the new term commits.
      void (async () => {
        while (this.isLeaderNow && this.leadershipTerm === term && !this.stopped) {
          try {
            await this.linearizableRead();
            if (this.isLeaderNow && this.leadershipTerm === term && !this.announcedLeader) {
              this.announcedLeader = true;
              this.options.onLeadership?.(true);
            }
            return;
          } catch (err: unknown) {
            this.logger.debug({ err: errorMessage(err) }, "leadership not confirmed yet");
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      })();
    }
  }

  private installSnapshot(snapshot: Snapshot): void {
    const data = RaftSnapshotData.decode(snapshot.data);
    this.members.clear();
    for (const m of data.members) this.members.set(m.raftId, m);
    this.syncPeers();
    this.confState = { voters: [...snapshot.metadata.confState.voters] };
    this.options.stateMachine.restore(data.store, snapshot.metadata.index);
    this.applied = snapshot.metadata.index;
    this.snapshotIndex = snapshot.metadata.index;
    this.logger.info({ index: snapshot.metadata.index, members: data.members.length }, "installed snapshot");
  }

  private applyEntries(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index <= this.applied) continue;
      if (entry.type === "confChange") this.applyConfChange(entry);
      else if (entry.data.length > 0) {
        const request = InternalRaftRequest.decode(entry.data);
        this.options.stateMachine.apply(entry.index, request);
        const waiter = this.pending.get(request.id);
        this.applied = entry.index;
        if (waiter) {
          this.pending.delete(request.id);
          waiter.resolve(entry.index);
        }
      }
      this.applied = entry.index;
    }
    if (this.appliedWaiters.length > 0) {
      for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
        const w = this.appliedWaiters[i]!;
        if (w.index <= this.applied) {
          this.appliedWaiters.splice(i, 1);
          w.resolve();
        }
      }
    }
  }

  private applyConfChange(entry: Entry): void {
    const cc = decodeConfChange(entry.data);
    this.confState = this.node.applyConfChange(cc);
    if (cc.type === "addNode") {
      const member = cc.context.length > 0 ? RaftMember.decode(cc.context) : undefined;
      if (member) this.members.set(cc.nodeId, { ...member, raftId: cc.nodeId });
      if (cc.nodeId === this.raftId) this.admittedBy.clear();
    } else {
      this.members.delete(cc.nodeId);
    }
    this.syncPeers();
    this.logger.info({ change: cc.type, member: cc.nodeId, voters: this.confState.voters }, "membership changed");
    const waiter = this.confChangeWaiter;
    if (waiter && waiter.cc.type === cc.type && waiter.cc.nodeId === cc.nodeId) {
      this.confChangeWaiter = undefined;
      waiter.resolve(entry.index);
    }
    if (cc.type === "removeNode" && cc.nodeId === this.raftId) {
      this.logger.warn("this manager was removed from the cluster");
      queueMicrotask(() => this.options.onRemoved?.());
    }
  }

  private syncPeers(): void {
    for (const [id, m] of this.members) if (id !== this.raftId) this.transport.setPeer(id, m.addr);
  }

  /** Peers no longer in the group stop receiving messages. */
  removeStalePeers(): void {
    for (const id of this.confState.voters) if (!this.members.has(id)) this.transport.removePeer(id);
  }

  private answerReads(rd: Ready): void {
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString("hex");
      const waiter = this.reads.get(key);
      if (waiter) {
        waiter.index = rs.index;
        waiter.resolve();
      }
    }
  }

  /**
   * Every `snapshotInterval` applied entries: encode the state in the background (the store's
   * saveAsync takes its picture at once and encodes in slices, so the loop keeps running), then
   * write it between two Readies.
   */
  private async maybeSnapshot(): Promise<void> {
    if (this.preparedSnapshot) {
      const snapshot = this.preparedSnapshot;
      this.preparedSnapshot = undefined;
      const interval = this.options.snapshotInterval ?? 10_000;
      await this.disk.saveSnapshot(snapshot, { retainEntries: Math.min(1000, interval) });
      this.snapshotIndex = snapshot.metadata.index;
      this.logger.info({ index: snapshot.metadata.index, bytes: snapshot.data.length }, "saved snapshot");
    }
    const interval = this.options.snapshotInterval ?? 10_000;
    if (this.snapshotting || (!this.snapshotSoon && this.applied - this.snapshotIndex < interval)) return;
    if (this.applied === 0) return;
    this.snapshotSoon = false;
    const index = this.applied;
    const metadata = { index, term: this.disk.storage.term(index), confState: { voters: [...this.confState.voters] } };
    const members = this.memberList();
    const sm = this.options.stateMachine;
    this.snapshotting = true;
    void (sm.saveAsync ? sm.saveAsync() : Promise.resolve(sm.save()))
      .then((store) => {
        this.preparedSnapshot = { data: RaftSnapshotData.encode({ members, store }).finish(), metadata };
        this.schedule();
      })
      .catch((err: unknown) => this.logger.error({ err: errorMessage(err), index }, "could not encode a snapshot"))
      .finally(() => {
        this.snapshotting = false;
      });
  }

  /**
   * Seal new writes with `key` (a new segment of the log), then take a snapshot at once, which
   * replaces the data under the older keys (see openRaftDisk).
   */
  async rotateDataKey(key: DataKey): Promise<void> {
    await this.disk.rotateKey(key);
    this.snapshotSoon = true;
    this.schedule();
  }

  private rejectProposals(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.confChangeWaiter) {
      this.confChangeWaiter.reject(err);
      this.confChangeWaiter = undefined;
    }
  }

  private rejectAll(err: Error): void {
    this.rejectProposals(err);
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
    for (const w of this.appliedWaiters.splice(0)) w.reject(err);
  }

  /** Stops ticking and talking; waits for the disk. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.rejectAll(new ShoalError(ErrorCode.Unavailable, "this manager is stopping"));
    this.transport.close();
    while (this.running) await new Promise((r) => setTimeout(r, 5));
    await this.disk?.close();
  }
}

function toRaftLogger(logger: Logger): RaftLogger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
  };
}
