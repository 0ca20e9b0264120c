// Raft messages between managers over gRPC. Each peer has its own client stream and its own
// bounded queue, so a slow or dead peer never holds up the others: when its queue is full, new
// messages to it are dropped (Raft resends what matters) and the core hears it is unreachable.
import * as grpc from "@grpc/grpc-js";
import {
  Backoff,
  MANAGER_CHANNEL_OPTIONS,
  RaftTransportClient,
  channelCredentials,
  componentLogger,
  errorMessage,
  type Clock,
  type Logger,
  type StreamRaftMessageRequest,
  type TlsMaterial,
} from "@shoal/shared";
import type { Message } from "@shoal/raft";
import { messageToWire } from "./codec.js";
import type { PeerReports, PeerTransport } from "./peer-transport.js";
import { streamRequests } from "./raft-chunks.js";

/**
 * The largest gRPC message a manager receives: gRPC's usual 4 MB. Snapshots and large appends
 * between managers go in chunks well below it (raft-chunks.ts). What a manager sends is not
 * limited here: answers to large lists still go whole.
 */
export const MAX_RECEIVED_MESSAGE_BYTES = 4 * 1024 * 1024;

export const GRPC_MESSAGE_LIMITS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": MAX_RECEIVED_MESSAGE_BYTES,
  "grpc.max_send_message_length": -1,
  // Channelz bookkeeping costs CPU on every call and nothing here reads it.
  "grpc.enable_channelz": 0,
};

export interface TransportOptions {
  readonly logger: Logger;
  /** Where delivery is reported: the Raft node. */
  readonly reports: PeerReports;
  /** For the backoff after a failed stream. */
  readonly clock: Clock;
  /** This manager's certificate: peers are called over mutual TLS with it. */
  readonly material: TlsMaterial;
  /** Messages waiting per peer before new ones are dropped; default 4096. */
  readonly queueLimit?: number;
}

export class RaftTransport implements PeerTransport {
  private readonly peers = new Map<number, Peer>();
  private readonly logger: Logger;

  constructor(private readonly options: TransportOptions) {
    this.logger = componentLogger(options.logger, "raft-transport");
  }

  /** Adds or moves a peer. */
  setPeer(raftId: number, addr: string): void {
    const existing = this.peers.get(raftId);
    if (existing?.addr === addr) return;
    existing?.close();
    this.peers.set(raftId, new Peer(raftId, addr, this.logger, this.options));
  }

  removePeer(raftId: number): void {
    this.peers.get(raftId)?.close();
    this.peers.delete(raftId);
  }

  peerAddress(raftId: number): string | undefined {
    return this.peers.get(raftId)?.addr;
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (!peer) {
        this.options.reports.reportUnreachable(m.to);
        if (m.type === "MsgSnap") this.options.reports.reportSnapshot(m.to, false);
        continue;
      }
      peer.enqueue(m);
    }
  }

  /** Closes every peer; idempotent. */
  close(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}

class Peer {
  private readonly client: RaftTransportClient;
  private call: grpc.ClientWritableStream<StreamRaftMessageRequest> | undefined;
  private readonly queue: Message[] = [];
  /** The rest of a message being written in chunks, and the message (to report a snapshot). */
  private chunks: StreamRaftMessageRequest[] = [];
  private chunked: Message | undefined;
  private readonly backoff = new Backoff({ initialMs: 50, maxMs: 1000 });
  private retryAt = 0;
  private draining = false;
  private closed = false;
  private readonly queueLimit: number;
  private dropped = 0;

  constructor(
    readonly raftId: number,
    readonly addr: string,
    private readonly logger: Logger,
    private readonly options: TransportOptions,
  ) {
    this.client = new RaftTransportClient(addr, channelCredentials(options.material), {
      ...GRPC_MESSAGE_LIMITS,
      ...MANAGER_CHANNEL_OPTIONS,
    });
    this.queueLimit = options.queueLimit ?? 4096;
  }

  enqueue(m: Message): void {
    if (this.closed) return;
    if (this.queue.length >= this.queueLimit) {
      this.dropped++;
      if (this.dropped % 1000 === 1) this.logger.warn({ peer: this.raftId, dropped: this.dropped }, "peer queue full");
      this.options.reports.reportUnreachable(this.raftId);
      if (m.type === "MsgSnap") this.options.reports.reportSnapshot(this.raftId, false);
      return;
    }
    this.queue.push(m);
    this.drain();
  }

  private stream(): grpc.ClientWritableStream<StreamRaftMessageRequest> | undefined {
    if (this.call) return this.call;
    if (this.options.clock.now() < this.retryAt) return undefined;
    const call = this.client.streamRaftMessage((err) => {
      if (this.call === call) {
        this.call = undefined;
        // The rest of a chunked message cannot go on another stream: the receiver starts afresh.
        if (this.chunks.length > 0) this.dropChunked();
      }
      if (err && !this.closed) this.fail(err);
    });
    call.on("drain", () => this.drain());
    this.call = call;
    return call;
  }

  private fail(err: unknown): void {
    // UNAVAILABLE: no connection (refused, reset, closed), as when the peer's process is gone.
    if ((err as { code?: unknown }).code === grpc.status.UNAVAILABLE)
      this.options.reports.reportPeerGone?.(this.raftId);
    const delay = this.backoff.next();
    this.retryAt = this.options.clock.now() + delay;
    this.logger.debug(
      { peer: this.raftId, addr: this.addr, err: errorMessage(err), retryInMs: delay },
      "peer stream failed",
    );
    this.dropQueue();
  }

  /** What was queued for the peer is lost; Raft resends what it still needs. */
  private dropQueue(): void {
    this.dropChunked();
    for (const m of this.queue.splice(0)) {
      if (m.type === "MsgSnap") this.options.reports.reportSnapshot(this.raftId, false);
    }
    this.options.reports.reportUnreachable(this.raftId);
  }

  /** A message cut between its chunks is lost with its stream: the receiver drops the part it has. */
  private dropChunked(): void {
    if (this.chunked?.type === "MsgSnap") this.options.reports.reportSnapshot(this.raftId, false);
    this.chunks = [];
    this.chunked = undefined;
  }

  private drain(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      while (this.chunks.length > 0 || this.queue.length > 0) {
        const call = this.stream();
        if (!call) {
          this.dropQueue(); // still backing off after a failure
          return;
        }
        if (this.chunks.length === 0) {
          const m = this.queue.shift()!;
          this.chunks = streamRequests(m, messageToWire(m));
          this.chunked = m;
        }
        const ok = call.write(this.chunks.shift()!);
        if (this.chunks.length === 0) {
          if (this.chunked?.type === "MsgSnap") this.options.reports.reportSnapshot(this.raftId, true);
          this.chunked = undefined;
        }
        this.backoff.reset();
        if (!ok) return; // wait for "drain"
      }
    } finally {
      this.draining = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.chunks = [];
    this.call?.end();
    this.call = undefined;
    this.client.close();
  }
}
