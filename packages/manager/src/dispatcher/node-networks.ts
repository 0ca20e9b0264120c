// The networks one node's assignments stream carries: those its tasks join (held from dispatch
// until the task ends or leaves the node, counted per network) and ingress while the node has a
// data plane and a service publishes an ingress port. At each commit the stream asks for the
// changes: the state of each network the node needs that is new or changed since it was sent
// (whole; placed before the tasks of the message), and a REMOVE (the id only) for each it no longer
// needs (after them). The states come from the shared NetworkIndex.
import { AssignmentAction, type AssignmentChange, type NetworkState, type Task } from "@shoal/shared";
import { hasEnded } from "../orchestrator/task-states.js";
import { leaseNetworkIndex, type NetworkIndexLease } from "./network-index.js";
import type { MemoryStore } from "../state/store/index.js";

export function networkChange(action: AssignmentAction, network: NetworkState): AssignmentChange {
  return { action, task: undefined, secret: undefined, config: undefined, network };
}

function removal(id: string): AssignmentChange {
  const network = { id, meta: undefined, spec: undefined, ipam: undefined, vni: 0 };
  return networkChange(AssignmentAction.REMOVE, { network, nodeAddress: "", peers: [], endpoints: [], services: [] });
}

/** The networks a task holds on its node: those it joins, while it has not ended. */
export function networksOf(task: Task): string[] {
  if (hasEnded(task)) return [];
  return [...new Set(task.networks.map((n) => n.networkId).filter((id) => id !== ""))];
}

export class NodeNetworks {
  private readonly lease: NetworkIndexLease;
  /** Task id -> the networks it holds. */
  private readonly held = new Map<string, readonly string[]>();
  /** Network id -> how many tasks hold it. */
  private readonly counts = new Map<string, number>();
  /** Network id -> the version of its state the node was sent. */
  private readonly sent = new Map<string, number>();

  constructor(
    store: MemoryStore,
    private readonly nodeId: string,
  ) {
    this.lease = leaseNetworkIndex(store);
  }

  /** Task `taskId` is dispatched to the node as `task`, or no longer (undefined). */
  track(taskId: string, task: Task | undefined): void {
    const now = task === undefined ? [] : networksOf(task);
    const was = this.held.get(taskId) ?? [];
    if (was.length === 0 && now.length === 0) return;
    if (now.length === 0) this.held.delete(taskId);
    else this.held.set(taskId, now);
    for (const id of now) if (!was.includes(id)) this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    for (const id of was) {
      if (now.includes(id)) continue;
      const n = (this.counts.get(id) ?? 1) - 1;
      if (n > 0) this.counts.set(id, n);
      else this.counts.delete(id);
    }
  }

  /** Every network state the node needs, for a full message (the tracked tasks are its set). */
  complete(): AssignmentChange[] {
    this.sent.clear();
    return this.around([]);
  }

  /** `changes` (one commit's) with the network changes around them: states first, removals last. */
  around(changes: AssignmentChange[]): AssignmentChange[] {
    const index = this.lease.index;
    index.sync();
    const ingress = index.ingressFor(this.nodeId);
    if (this.counts.size === 0 && this.sent.size === 0 && ingress === undefined) return changes;
    const needed = new Set(this.counts.keys());
    if (ingress !== undefined) needed.add(ingress);
    const before: AssignmentChange[] = [];
    const after: AssignmentChange[] = [];
    for (const id of needed) {
      const version = index.version(id);
      if (version === undefined || this.sent.get(id) === version) continue;
      const state = index.state(id, this.nodeId);
      if (state === undefined) continue;
      this.sent.set(id, version);
      before.push(networkChange(AssignmentAction.UPDATE, state));
    }
    for (const id of [...this.sent.keys()]) {
      if (needed.has(id) && index.version(id) !== undefined) continue;
      this.sent.delete(id);
      after.push(removal(id));
    }
    if (before.length === 0 && after.length === 0) return changes;
    return [...before, ...changes, ...after];
  }

  /** Gives the shared index back. Idempotent. */
  close(): void {
    this.lease.release();
  }
}
