// Checks the safety properties of Raft (paper, figure 3) as a simulation runs:
// - election safety: at most one leader per term;
// - log matching: two logs holding an entry with the same index and term are identical up to it
//   (checked through a fingerprint of each log prefix, keyed by (index, term));
// - leader completeness: a newly elected leader holds every entry applied anywhere before;
// - state machine safety: no two nodes apply different entries (or reach different states) at an index;
// - linearizable reads: a read index is at least the index of everything applied anywhere before the read
//   was requested (else a read served at that index could miss a completed write).
import type { Entry, Snapshot } from "../../src/index.js";
import { bytesToString, chainHash } from "./hash.js";

export class SafetyViolation extends Error {
  override name = "SafetyViolation";
}

/** The parts of a simulated node the checker reads and maintains. */
export interface CheckedNode {
  readonly id: number;
  /** chain[i]: fingerprint of the persisted log prefix up to index i (test metadata kept with storage). */
  chain: number[];
  /** Index of the snapshot the persisted log starts after. */
  snapshotIndex: number;
}

export function entryKey(e: Entry): string {
  return `${e.term}:${e.type}:${bytesToString(e.data)}`;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, number>();
  /** "index:term" -> fingerprint of the log prefix ending with that entry, across all nodes. */
  private readonly prefixOf = new Map<string, number>();
  /** index -> key of the entry applied there, by whichever node applied it first. */
  private readonly appliedEntry = new Map<number, string>();
  /** index -> fingerprint of the log prefix that was applied up to there. */
  private readonly appliedPrefix = new Map<number, number>();
  /** index -> state machine fingerprint after applying up to there. */
  private readonly stateAt = new Map<number, number>();
  /** Read request context -> the highest index applied anywhere when it was issued. */
  private readonly pendingReads = new Map<string, number>();
  maxApplied = 0;
  leadersElected = 0;
  readsAnswered = 0;

  fail(msg: string): never {
    throw new SafetyViolation(msg);
  }

  /** Election safety. */
  leaderElected(id: number, term: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) {
      this.fail(`election safety: nodes ${other} and ${id} are both leaders of term ${term}`);
    }
    if (other === undefined) this.leadersElected++;
    this.leaderOfTerm.set(term, id);
  }

  /** Leader completeness: call once the new leader's log is persisted (before it applies anything). */
  checkLeaderCompleteness(node: CheckedNode, lastIndex: number): void {
    const c = this.maxApplied;
    if (c === 0) return;
    if (lastIndex < c) this.fail(`leader completeness: leader ${node.id} ends at ${lastIndex}, ${c} was applied`);
    const mine = node.chain[c];
    if (mine === undefined) {
      if (node.snapshotIndex < c) this.fail(`leader completeness: leader ${node.id} has no entry ${c}`);
      return; // covered by its snapshot
    }
    if (mine !== this.appliedPrefix.get(c)) {
      this.fail(`leader completeness: leader ${node.id}'s log differs from the applied log at index ${c}`);
    }
  }

  /** A snapshot replaced the node's log. */
  snapshotPersisted(node: CheckedNode, snap: Snapshot): void {
    const { index, term } = snap.metadata;
    const prefix = this.prefixOf.get(`${index}:${term}`);
    if (prefix === undefined) this.fail(`snapshot at ${index}:${term} of an entry no node ever persisted`);
    node.chain = [];
    node.chain[index] = prefix;
    node.snapshotIndex = index;
  }

  /** Log matching: entries were appended (replacing the log's tail from ents[0].index). */
  entriesPersisted(node: CheckedNode, ents: readonly Entry[]): void {
    const head = ents[0];
    if (head === undefined) return;
    const prev = node.chain[head.index - 1];
    if (prev === undefined) this.fail(`node ${node.id} appended at ${head.index} after a gap in its log`);
    node.chain.length = head.index;
    let h = prev;
    for (const e of ents) {
      h = chainHash(h, entryKey(e));
      node.chain[e.index] = h;
      const key = `${e.index}:${e.term}`;
      const seen = this.prefixOf.get(key);
      if (seen === undefined) this.prefixOf.set(key, h);
      else if (seen !== h) {
        this.fail(`log matching: node ${node.id} holds entry ${key} after a prefix no other log with it has`);
      }
    }
  }

  /** State machine safety: a node applied entry e and reached state fingerprint `state`. */
  applied(node: CheckedNode, e: Entry, state: number): void {
    const key = entryKey(e);
    const other = this.appliedEntry.get(e.index);
    if (other === undefined) {
      this.appliedEntry.set(e.index, key);
      const prefix = node.chain[e.index];
      if (prefix === undefined) this.fail(`node ${node.id} applied entry ${e.index} it has not persisted`);
      this.appliedPrefix.set(e.index, prefix);
      if (e.index > this.maxApplied) this.maxApplied = e.index;
    } else if (other !== key) {
      this.fail(`state machine safety: node ${node.id} applied ${key} at ${e.index}, another node applied ${other}`);
    }
    this.checkState(node, e.index, state);
  }

  /** A node's state machine was loaded from a snapshot at `index`. */
  snapshotApplied(node: CheckedNode, index: number, state: number): void {
    this.checkState(node, index, state);
  }

  readRequested(ctx: string): void {
    this.pendingReads.set(ctx, this.maxApplied);
  }

  readAnswered(node: CheckedNode, ctx: string, index: number): void {
    const floor = this.pendingReads.get(ctx);
    if (floor === undefined) this.fail(`node ${node.id} got an answer to read ${ctx} that nobody requested`);
    if (index < floor) {
      this.fail(
        `linearizability: read ${ctx} answered at index ${index}, but ${floor} was applied before it was issued`,
      );
    }
    this.readsAnswered++;
  }

  private checkState(node: CheckedNode, index: number, state: number): void {
    const other = this.stateAt.get(index);
    if (other === undefined) this.stateAt.set(index, state);
    else if (other !== state) this.fail(`state machine safety: node ${node.id} diverged at applied index ${index}`);
  }
}
