// Flow control for one follower in the replicate state: the MsgApps sent but not yet acknowledged,
// bounded by a count (maxInflightMsgs) and optionally by bytes (maxInflightBytes). Kept as a ring of the
// last entry index of each message, in increasing order.
export class Inflights {
  private readonly capacity: number;
  private readonly maxBytes: number;
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private count = 0;
  private bytes = 0;

  /** maxBytes 0 means no byte limit. */
  constructor(capacity: number, maxBytes = 0) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.indexes = new Array<number>(capacity).fill(0);
    this.sizes = new Array<number>(capacity).fill(0);
  }

  /** A copy with the same limits and content. */
  clone(): Inflights {
    const c = new Inflights(this.capacity, this.maxBytes);
    for (let i = 0; i < this.count; i++) {
      const at = (this.start + i) % this.capacity;
      c.add(this.indexes[at] as number, this.sizes[at] as number);
    }
    return c;
  }

  /** Record a message whose last entry is `index` carrying `bytes` of entries. */
  add(index: number, bytes: number): void {
    if (this.count === this.capacity) throw new Error("cannot add into a full inflights");
    const at = (this.start + this.count) % this.capacity;
    this.indexes[at] = index;
    this.sizes[at] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Forget the messages whose last index is <= to: the follower acknowledged them. */
  freeLE(to: number): void {
    while (this.count > 0 && (this.indexes[this.start] as number) <= to) {
      this.bytes -= this.sizes[this.start] as number;
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Forget the oldest message (a heartbeat response showed the follower is alive). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start] as number);
  }

  full(): boolean {
    return this.count === this.capacity || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  get length(): number {
    return this.count;
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
