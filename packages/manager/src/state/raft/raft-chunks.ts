// Raft messages on a peer stream, whole or in chunks (see StreamRaftMessageRequest in raft.proto).
// A snapshot, or an append of large entries, is encoded once and sent as consecutive slices of its
// encoding, so that no gRPC message between managers is larger than a chunk plus its framing and
// the servers keep gRPC's usual 4 MB receive limit.
import { RaftMessage, type StreamRaftMessageRequest } from "@shoal/shared";
import { entrySize, type Message } from "@shoal/raft";
import { RaftCodecError } from "./codec.js";

/** The size of a chunk: messages whose payload could be larger go in chunks. */
export const RAFT_CHUNK_BYTES = 1024 * 1024;

/** The largest message a receiver assembles from chunks (a snapshot of the whole store). */
export const MAX_ASSEMBLED_RAFT_MESSAGE_BYTES = 1024 * 1024 * 1024;

const NO_BYTES = new Uint8Array(0);

/** The bytes of a message's payload: its entries and its snapshot's data. */
export function payloadBytes(m: Message): number {
  let size = m.snapshot?.data.byteLength ?? 0;
  for (const e of m.entries) size += entrySize(e);
  return size;
}

/**
 * The stream requests that carry `wire` (the message `m` on the wire): one request when its
 * payload is well below a chunk, else its encoding in slices of `chunkBytes`.
 */
export function streamRequests(
  m: Message,
  wire: RaftMessage,
  chunkBytes: number = RAFT_CHUNK_BYTES,
): StreamRaftMessageRequest[] {
  // Headers and framing are small next to the payload: half a chunk leaves them ample room.
  if (payloadBytes(m) < chunkBytes / 2) return [{ message: wire, chunk: NO_BYTES, lastChunk: false }];
  const bytes = RaftMessage.encode(wire).finish();
  const requests: StreamRaftMessageRequest[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    const end = Math.min(at + chunkBytes, bytes.length);
    requests.push({ message: undefined, chunk: bytes.subarray(at, end), lastChunk: end === bytes.length });
  }
  return requests;
}

/** Reassembles the messages of one peer stream, in order. */
export class ChunkAssembler {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number = MAX_ASSEMBLED_RAFT_MESSAGE_BYTES) {}

  /**
   * The message `req` completes, or undefined while a chunked message is still arriving (or for a
   * request with nothing in it). Throws a RaftCodecError for a broken sequence or an oversized
   * message; the partial message is then dropped.
   */
  accept(req: StreamRaftMessageRequest): RaftMessage | undefined {
    const chunked = req.chunk.byteLength > 0 || req.lastChunk;
    if (!chunked) {
      if (this.parts.length > 0) {
        this.reset();
        throw new RaftCodecError("a whole raft message came between the chunks of another");
      }
      return req.message;
    }
    if (req.message) {
      this.reset();
      throw new RaftCodecError("a raft stream request carries both a message and a chunk");
    }
    this.bytes += req.chunk.byteLength;
    if (this.bytes > this.maxBytes) {
      const bytes = this.bytes;
      this.reset();
      throw new RaftCodecError(`a chunked raft message of over ${bytes} bytes exceeds ${this.maxBytes} bytes`);
    }
    this.parts.push(req.chunk);
    if (!req.lastChunk) return undefined;
    const parts = this.parts;
    this.reset();
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    try {
      return RaftMessage.decode(data);
    } catch (err: unknown) {
      throw new RaftCodecError(`a chunked raft message does not decode: ${String(err)}`);
    }
  }

  /** Bytes of the message being assembled. */
  get pendingBytes(): number {
    return this.bytes;
  }

  private reset(): void {
    this.parts = [];
    this.bytes = 0;
  }
}
