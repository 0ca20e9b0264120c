// The members of the Raft group as this manager knows them (raft id, node id, address), kept in step
// with the transport's peers, and the rule that decides whose messages are heard.
//
// Messages from senders that are not members are refused: a removed manager, or one left out by a
// forced new cluster, must not disturb the group (its higher term would depose the leader). Until
// this member knows the group (a new joiner before the leader's snapshot), every sender is heard.
// A joiner also hears the members that admitted it (the join response) until it applies its own
// admission: the leader's snapshot may predate them (it may name the founder alone), and the entries
// that add them come from the leader, which must not be refused meanwhile.
import { RaftMember, type Logger } from "@shoal/shared";
import type { ConfChange, Message } from "@shoal/raft";
import type { PeerTransport } from "./peer-transport.js";

export class MemberSet {
  private readonly members = new Map<number, RaftMember>();
  private readonly admittedBy = new Set<number>();
  /** Senders refused, each logged once. */
  private readonly refused = new Set<number>();

  constructor(
    private readonly self: number,
    private readonly transport: PeerTransport,
    private readonly logger: Logger,
  ) {}

  /** The members that admitted this one (a joiner), heard until its own admission is applied. */
  admittedThrough(members: readonly RaftMember[]): void {
    for (const m of members) this.admittedBy.add(m.raftId);
  }

  /** Whether this node still hears the members that admitted it. */
  get admitting(): boolean {
    return this.admittedBy.size > 0;
  }

  /** Replaces every member (a snapshot, or the members known from joining), and the peers with them. */
  replace(members: readonly RaftMember[]): void {
    this.members.clear();
    for (const m of members) this.members.set(m.raftId, m);
    this.syncPeers();
  }

  /** Applies a committed membership change. */
  applyConfChange(cc: ConfChange): void {
    if (cc.type === "addNode") {
      const member = cc.context.length > 0 ? RaftMember.decode(cc.context) : undefined;
      if (member) this.members.set(cc.nodeId, { ...member, raftId: cc.nodeId });
      if (cc.nodeId === this.self) this.admittedBy.clear();
    } else {
      this.members.delete(cc.nodeId);
    }
    this.syncPeers();
  }

  /** Whether a message from a peer may be stepped; logs a refused sender once. */
  accepts(m: Message): boolean {
    if (m.from === this.self || this.members.size === 0 || this.members.has(m.from) || this.admittedBy.has(m.from)) {
      return true;
    }
    if (!this.refused.has(m.from)) {
      this.refused.add(m.from);
      this.logger.warn(
        { from: m.from.toString(16), type: m.type, term: m.term },
        "refused raft messages from a non-member",
      );
    }
    return false;
  }

  /** Peers that are voters but no longer members stop receiving messages. */
  removeStale(voters: readonly number[]): void {
    for (const id of voters) if (!this.members.has(id)) this.transport.removePeer(id);
  }

  get(raftId: number): RaftMember | undefined {
    return this.members.get(raftId);
  }

  get size(): number {
    return this.members.size;
  }

  /** Copies of the members. */
  list(): RaftMember[] {
    return [...this.members.values()].map((m) => RaftMember.fromPartial(m));
  }

  private syncPeers(): void {
    for (const [id, m] of this.members) if (id !== this.self) this.transport.setPeer(id, m.addr);
  }
}
