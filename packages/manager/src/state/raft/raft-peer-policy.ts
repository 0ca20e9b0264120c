// Which managers may speak Raft to this one (the auth interceptor's `isRaftMember`): a pure query
// over what this manager knows of the group right now.

export interface RaftPeerState {
  /** This manager's Join call is out: the leader already sends to it, whose members it does not know yet. */
  readonly joining: boolean;
  /** Whether the Raft node runs. */
  readonly started: boolean;
  /** Whether the running node still hears the members that admitted it (its admission is not applied yet). */
  readonly admitting: boolean;
  /** The group's members, as the running node knows them (none before it runs). */
  readonly members: readonly { readonly nodeId: string }[];
  /** The members learnt from the Join answer. */
  readonly joinedMembers: readonly { readonly nodeId: string }[];
}

/**
 * Whether manager `nodeId` may speak Raft to this one: any manager of the cluster while the Join
 * call is out; a current member; and, until this manager's own admission is applied (raft not
 * running yet, or still admitting: the leader's snapshot may predate them), the members that
 * admitted it.
 */
export function isRaftPeer(nodeId: string, state: RaftPeerState): boolean {
  if (state.joining) return true;
  if (state.members.some((m) => m.nodeId === nodeId)) return true;
  const admitted = state.started && !state.admitting;
  return !admitted && state.joinedMembers.some((m) => m.nodeId === nodeId);
}
