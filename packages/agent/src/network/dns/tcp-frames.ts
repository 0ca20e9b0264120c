// DNS over TCP frames each message with its length on two bytes (RFC 1035 4.2.2). The messages
// themselves are left as they are: the server decodes them with dns-packet, a forwarded one is
// relayed byte for byte.

/** `message` with its two-byte length in front. */
export function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/** Splits a TCP byte stream into the messages it carries. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds `chunk`; returns the messages now complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 2) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) break;
      messages.push(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
    }
    return messages;
  }
}
