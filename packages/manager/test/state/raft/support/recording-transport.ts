// A PeerTransport that only records what it is asked to do.
import type { Message } from "@shoal/raft";
import type { PeerTransport } from "../../../../src/state/raft/peer-transport.js";

export class RecordingTransport implements PeerTransport {
  readonly peers = new Map<number, string>();
  readonly sent: Message[] = [];
  readonly removed: number[] = [];
  closed = false;

  send(messages: readonly Message[]): void {
    this.sent.push(...messages);
  }

  setPeer(raftId: number, addr: string): void {
    this.peers.set(raftId, addr);
  }

  removePeer(raftId: number): void {
    this.removed.push(raftId);
    this.peers.delete(raftId);
  }

  close(): void {
    this.closed = true;
  }
}
