// The networks this node is told about (AssignmentChange.network): the one place the agent's
// network parts (data plane, NAT rules, DNS) read them from. The worker applies the changes; each
// part listens and reconciles the host from the whole set.
import { AssignmentAction, type NetworkState } from "@shoal/shared";

export type NetworkStatesListener = () => void;

export class NetworkStates {
  private readonly states = new Map<string, NetworkState>();
  private readonly listeners = new Set<NetworkStatesListener>();

  /** The state of network `id`, if the node has it. */
  get(id: string): NetworkState | undefined {
    return this.states.get(id);
  }

  /** Every network the node has, ordered by id. */
  all(): NetworkState[] {
    return [...this.states.values()].sort((a, b) => (networkId(a) < networkId(b) ? -1 : 1));
  }

  /** Applies one change (UPDATE replaces the network's state whole; REMOVE forgets it). */
  apply(action: AssignmentAction, state: NetworkState): void {
    const id = networkId(state);
    if (id === "") return;
    if (action === AssignmentAction.REMOVE) this.states.delete(id);
    else this.states.set(id, state);
    this.notify();
  }

  /** Replaces the whole set (a full assignments message). */
  replaceAll(states: readonly NetworkState[]): void {
    this.states.clear();
    for (const s of states) if (networkId(s) !== "") this.states.set(networkId(s), s);
    this.notify();
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: NetworkStatesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}

export function networkId(state: NetworkState): string {
  return state.network?.id ?? "";
}
