// A bounded FIFO queue with an async iterator. When full it drops the oldest item and counts it
// ("drop-oldest"), or the producer chooses to close it; it never grows without limit.

export type OverflowPolicy = "drop-oldest" | "drop-newest";

export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private closed = false;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    readonly overflow: OverflowPolicy = "drop-oldest",
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("queue capacity must be a positive integer");
  }

  /** Adds an item; returns false when it (or an older one) was dropped. Ignored once closed. */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) {
      this.dropped++;
      if (this.overflow === "drop-newest") return false;
      this.items.shift();
      this.items.push(item);
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the queue: consumers get what is left, then done. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ value: undefined, done: true });
    }
  }

  get size(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error("queue has one consumer at a time"));
    return new Promise((resolve) => (this.waiter = resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: () => (this.close(), Promise.resolve({ value: undefined, done: true })) };
  }
}
