// How a Raft node talks to its peers: what the driver needs of a transport (the gRPC one in
// transport.ts, the in-memory twin in memory-network.ts), and what a transport reports back.
import type { Message } from "@shoal/raft";

export interface PeerTransport {
  /** Sends messages to their `to` peers, best effort: Raft resends what matters. Never throws. */
  send(messages: readonly Message[]): void;
  /** Adds a peer, or moves it to a new address. */
  setPeer(raftId: number, addr: string): void;
  removePeer(raftId: number): void;
  /** Stops sending to every peer; idempotent. */
  close(): void;
}

/** What a transport tells the node about delivery (RaftNode implements it, as etcd's raft.Node). */
export interface PeerReports {
  /** The peer could not be reached: Raft should probe it rather than pipeline to it. */
  reportUnreachable(raftId: number): void;
  /** A snapshot sent to the peer was handed to its stream (`delivered`), or was lost. */
  reportSnapshot(raftId: number, delivered: boolean): void;
  /**
   * The peer's process is not there: its connection was refused or reset (not a slow answer, and
   * not a message dropped). A follower whose leader this is need not wait out an election timeout.
   */
  reportPeerGone?(raftId: number): void;
}
