// Spread: among the nodes that passed the filters, take the one with the fewest active tasks of
// the service, then the fewest active tasks in all, ties broken by a shuffle seeded from the task
// group (see pipeline.ts), so that a placement can be replayed. A node where the service failed
// MAX_RECENT_FAILURES times in the last FAILURE_WINDOW_MS comes after every other (as SwarmKit).
//
// Placement preferences (spread=node.labels.KEY, in order) make a tree: the first label splits the
// nodes by value (nodes without the label form their own group), the next splits each group, and
// so on; the nodes are the leaves. A descriptor that names no label (spread=com.example.x) makes
// no level, as in SwarmKit: every node is in one group for it (see parsePlacementPreferences). Each placement walks down the branch with the fewest tasks of
// the service at every level, which balances tasks across the values of the first label, then
// within each value across the second, and so on (SwarmKit's semantics: tasks on every node of the
// cluster count for a branch, filtered out or not). Branches and nodes sit in heaps that are fixed
// after each placement: O(depth * log n) a task.
import { MAX_RECENT_FAILURES, hashString, mix, type NodeInfo } from "../node-info.js";
import { spreadValue, type SpreadLabel } from "../constraints.js";
import { IndexedHeap, type HeapItem } from "./heap.js";

export interface SpreadOptions {
  readonly serviceId: string;
  /** Placement preferences, outermost first. */
  readonly spread: readonly SpreadLabel[];
  /** Seed of the tie-breaking shuffle. */
  readonly seed: number;
  /** The nodes that passed the filters. */
  readonly candidates: readonly NodeInfo[];
  /** Every node (read only with preferences: their tasks of the service count for their branch). */
  readonly nodes: Iterable<NodeInfo>;
  /** When given, recent failures of the service on a node push it back. */
  readonly now?: number | undefined;
}

/** A node the strategy may choose. */
export class Candidate implements HeapItem {
  heapIndex = -1;
  /** Active tasks of the service on the node. */
  service: number;
  /** Active tasks on the node. */
  total: number;

  constructor(
    readonly info: NodeInfo,
    readonly leaf: Branch,
    readonly rank: number,
    readonly failing: boolean,
    serviceId: string,
  ) {
    this.service = info.serviceTasks(serviceId);
    this.total = info.activeTasks;
  }
}

class Branch implements HeapItem {
  heapIndex = -1;
  /** Active tasks of the service on every node under this branch. */
  count = 0;
  readonly children = new Map<string, Branch>();
  readonly nodes: Candidate[] = [];
  childHeap: IndexedHeap<Branch> | undefined;
  nodeHeap: IndexedHeap<Candidate> | undefined;

  constructor(
    readonly value: string,
    readonly rank: number,
    readonly parent: Branch | undefined,
  ) {}

  get empty(): boolean {
    return (this.childHeap?.size ?? 0) === 0 && (this.nodeHeap?.size ?? 0) === 0;
  }
}

function candidateLess(a: Candidate, b: Candidate): boolean {
  if (a.failing !== b.failing) return b.failing;
  if (a.service !== b.service) return a.service < b.service;
  if (a.total !== b.total) return a.total < b.total;
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.info.id < b.info.id;
}

function branchLess(a: Branch, b: Branch): boolean {
  if (a.count !== b.count) return a.count < b.count;
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.value < b.value;
}

export class SpreadStrategy {
  private readonly root: Branch;
  private readonly serviceId: string;
  /** The leaf branch of each node (only with preferences; without, every node is under the root). */
  private readonly leaves = new Map<NodeInfo, Branch>();

  constructor(options: SpreadOptions) {
    const { serviceId, spread, seed, candidates, now } = options;
    this.serviceId = serviceId;
    this.root = new Branch("", 0, undefined);
    const leaves = this.leaves;
    if (spread.length > 0) {
      for (const info of options.nodes) {
        const count = info.serviceTasks(serviceId);
        let branch = this.root;
        for (const label of spread) {
          const value = spreadValue(label, info.attrs);
          let next = branch.children.get(value);
          if (next === undefined) {
            next = new Branch(value, mix(hashString(value), seed), branch);
            branch.children.set(value, next);
          }
          next.count += count;
          branch = next;
        }
        leaves.set(info, branch);
      }
    }
    for (const info of candidates) {
      const leaf = leaves.get(info) ?? this.root;
      const failing = now !== undefined && info.recentFailures(serviceId, now) >= MAX_RECENT_FAILURES;
      leaf.nodes.push(new Candidate(info, leaf, mix(info.idHash, seed), failing, serviceId));
    }
    build(this.root);
  }

  /** The node to place the next task on, or undefined if none is left. */
  best(): Candidate | undefined {
    let branch = this.root;
    while (branch.childHeap !== undefined) {
      const next = branch.childHeap.peek();
      if (next === undefined) return undefined;
      branch = next;
    }
    return branch.nodeHeap?.peek();
  }

  /**
   * Whether node `b` holds strictly fewer tasks of the service than node `a` where the spread first
   * tells them apart: the first level of the preference tree where their branches differ, else the
   * nodes themselves. When it does not, preferring `b` to `a` is only a tie-break (total tasks, the
   * shuffle): moving a task from `a` to `b` would not make the spread any better.
   */
  fewerThan(b: NodeInfo, a: NodeInfo): boolean {
    const pa = this.path(a);
    const pb = this.path(b);
    for (let i = 0; i < pa.length; i++) {
      if (pa[i] !== pb[i]) return pb[i]!.count < pa[i]!.count;
    }
    return b.serviceTasks(this.serviceId) < a.serviceTasks(this.serviceId);
  }

  /** The branches from the top level down to the node's leaf (empty without preferences). */
  private path(info: NodeInfo): Branch[] {
    const out: Branch[] = [];
    for (let b = this.leaves.get(info) ?? this.root; b.parent !== undefined; b = b.parent) out.unshift(b);
    return out;
  }

  /**
   * Takes note that a task was placed on `c` (its NodeInfo already counts it); `stillFits` says
   * whether the node can take another task of the group (else it leaves the strategy).
   */
  placed(c: Candidate, stillFits: boolean): void {
    c.service = c.info.serviceTasks(this.serviceId);
    c.total = c.info.activeTasks;
    const leaf = c.leaf;
    if (stillFits) leaf.nodeHeap?.update(c);
    else leaf.nodeHeap?.remove(c);
    for (let b = leaf; b.parent !== undefined; b = b.parent) {
      b.count++;
      const heap = b.parent.childHeap!;
      if (b.empty) heap.remove(b);
      else heap.update(b);
    }
  }
}

/** Builds the heaps bottom-up, leaving out branches without candidates. */
function build(branch: Branch): void {
  if (branch.children.size === 0) {
    branch.nodeHeap = new IndexedHeap(candidateLess, branch.nodes);
    branch.nodes.length = 0;
    return;
  }
  const live: Branch[] = [];
  for (const child of branch.children.values()) {
    build(child);
    if (!child.empty) live.push(child);
  }
  branch.childHeap = new IndexedHeap(branchLess, live);
}
