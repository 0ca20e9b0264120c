// What a RaftNode is made of: its settings (what it is, how it behaves) and its I/O, passed in.
import type { Clock, Logger, RaftMember } from "@shoal/shared";
import type { Config, RawNode, RaftDisk } from "@shoal/raft";
import type { RandomBytes } from "../../random-bytes.js";
import type { PeerTransport } from "./peer-transport.js";
import type { StateMachine } from "./state-machine.js";

/** Ticks without a leader before a follower starts an election, when not told otherwise. */
export const DEFAULT_ELECTION_TICK = 10;
/** Ticks between a leader's heartbeats, when not told otherwise. */
export const DEFAULT_HEARTBEAT_TICK = 1;

/** What a node is, and how it behaves: everything but its I/O. */
export interface RaftNodeSettings {
  readonly raftId: number;
  /** This manager's node id and raft address, as other members reach it. */
  readonly nodeId: string;
  readonly addr: string;
  readonly logger: Logger;
  readonly stateMachine: StateMachine;
  /** Start a new one-member cluster when the disk is empty (else wait to be added). */
  readonly bootstrap: boolean;
  /**
   * Recover from a lost quorum: rewrite the disk into a group of this member alone, keeping every
   * entry of its log (see forceNewCluster in @shoal/raft), then start as its leader.
   */
  readonly forceNewCluster?: boolean;
  /** Members known from joining, used until the leader's snapshot says who they are. */
  readonly knownMembers?: readonly RaftMember[];
  /** Time between two ticks; default 50 ms. */
  readonly tickMs?: number;
  /** Default 10 ticks. */
  readonly electionTick?: number;
  /** Default 1 tick. */
  readonly heartbeatTick?: number;
  /** Take a snapshot after this many applied entries, read at each check; default 10 000. */
  readonly snapshotInterval?: number | (() => number);
  onLeadership?(isLeader: boolean): void;
  /** This manager was removed from the group. */
  onRemoved?(): void;
}

export interface RaftNodeOptions extends RaftNodeSettings {
  /** The opened disk; the node closes it when it stops. */
  readonly disk: RaftDisk;
  /** To the peers; the node closes it when it stops. Report delivery to the node (PeerReports). */
  readonly transport: PeerTransport;
  /** Ticks, the read-index timeout, and the waits of transferLeadership. */
  readonly clock: Clock;
  /** Proposal ids, read-index contexts, and the seed of the election timeouts. */
  readonly random: RandomBytes;
  /** Makes the RawNode; default `new RawNode(config)` (tests wrap it to trace its calls). */
  readonly newRawNode?: (config: Config) => RawNode;
}
