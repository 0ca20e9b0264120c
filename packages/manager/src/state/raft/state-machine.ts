// What Raft replicates: every manager applies the same committed entries, in the same order, to its
// state machine (the store).
import type { InternalRaftRequest } from "@shoal/shared";

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
