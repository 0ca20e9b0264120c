// The leader's proposals waiting to be committed and applied. What is proposed in one turn of the
// event loop goes to Raft as one batch (one append per follower); each proposal carries an id that
// the apply loop matches to its waiter. One membership change at a time waits here too. When this
// manager loses leadership, every waiter is rejected: its outcome is unknown.
import { ErrorCode, InternalRaftRequest, ShoalError, errorMessage, type AuditRecord, type Logger } from "@shoal/shared";
import type { ConfChange } from "@shoal/raft";
import { randomUint, type RandomBytes } from "../../random-bytes.js";

export interface ProposalQueueOptions {
  readonly logger: Logger;
  /** For the first proposal id (ids then count up), so that ids of two leaders hardly ever meet. */
  readonly random: RandomBytes;
  /** Hands a batch to Raft; throws when Raft drops it (this manager is not the leader). */
  submit(batch: readonly Uint8Array[]): void;
  /** Hands a membership change to Raft; throws when Raft drops it. */
  submitConfChange(cc: ConfChange): void;
  /** The error for what Raft dropped. */
  notLeader(): Error;
}

interface Waiter {
  resolve(index: number): void;
  reject(err: Error): void;
}

export class ProposalQueue {
  private readonly pending = new Map<number, Waiter>();
  private batch: { id: number; data: Uint8Array }[] = [];
  private confChange: (Waiter & { cc: ConfChange }) | undefined;
  private nextId: number;
  private closedWith: Error | undefined;

  constructor(private readonly options: ProposalQueueOptions) {
    this.nextId = randomUint(options.random, 5) * 1024;
  }

  /** Proposals waiting to be applied. */
  get size(): number {
    return this.pending.size;
  }

  /** Proposes a request (store actions, audit records); resolves with its log index once it is applied here. */
  propose(actions: InternalRaftRequest["actions"], signal?: AbortSignal, audit: AuditRecord[] = []): Promise<number> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const data = InternalRaftRequest.encode({ id, actions, audit }).finish();
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
      if (this.batch.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Proposes what arrived in this turn of the event loop as one batch. */
  private flush(): void {
    const batch = this.batch.splice(0);
    if (batch.length === 0 || this.closedWith) return;
    try {
      this.options.submit(batch.map((p) => p.data));
    } catch (err: unknown) {
      this.options.logger.debug({ err: errorMessage(err), proposals: batch.length }, "proposals dropped");
      for (const { id } of batch) {
        const waiter = this.pending.get(id);
        this.pending.delete(id);
        waiter?.reject(this.options.notLeader());
      }
    }
  }

  /** A request was applied at `index`: its waiter, if it was proposed here, resolves. */
  applied(id: number, index: number): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    waiter.resolve(index);
  }

  /** Proposes a membership change; resolves with its index once applied. One at a time. */
  changeMembership(cc: ConfChange): Promise<number> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.confChange) {
      return Promise.reject(new ShoalError(ErrorCode.FailedPrecondition, "another membership change is in progress"));
    }
    return new Promise<number>((resolve, reject) => {
      this.confChange = { cc, resolve, reject };
      try {
        this.options.submitConfChange(cc);
      } catch (err: unknown) {
        this.confChange = undefined;
        this.options.logger.debug({ err: errorMessage(err) }, "membership change dropped");
        reject(this.options.notLeader());
      }
    });
  }

  /** A membership change was applied at `index`: the matching waiter resolves. */
  confChangeApplied(cc: ConfChange, index: number): void {
    const waiter = this.confChange;
    if (waiter && waiter.cc.type === cc.type && waiter.cc.nodeId === cc.nodeId) {
      this.confChange = undefined;
      waiter.resolve(index);
    }
  }

  /**
   * Rejects every waiter (leadership lost). Proposals of this turn not yet handed to Raft are
   * dropped: they will not be applied.
   */
  rejectAll(err: Error): void {
    this.batch.length = 0;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    const cc = this.confChange;
    this.confChange = undefined;
    cc?.reject(err);
  }

  /** Rejects every waiter, and every proposal from now on, with `err` (the node stops or failed). */
  close(err: Error): void {
    this.closedWith ??= err;
    this.rejectAll(err);
  }
}
