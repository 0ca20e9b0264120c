// The index of the last entry applied to the state machine here, and who waits for it to reach an
// index (a read after its read index, a caller after a write).
interface Waiter {
  readonly index: number;
  resolve(): void;
  reject(err: Error): void;
}

export class AppliedIndex {
  private current = 0;
  private waiters: Waiter[] = [];
  private closedWith: Error | undefined;

  get value(): number {
    return this.current;
  }

  /** Entries up to `index` are applied: waiters up to it resolve. */
  set(index: number): void {
    this.current = index;
    if (this.waiters.length === 0) return;
    const due = this.waiters.filter((w) => w.index <= index);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.index > index);
    for (const w of due) w.resolve();
  }

  /** Resolves once the entry at `index` is applied. */
  wait(index: number): Promise<void> {
    if (this.current >= index) return Promise.resolve();
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => this.waiters.push({ index, resolve, reject }));
  }

  /** Waiters waiting. */
  get size(): number {
    return this.waiters.length;
  }

  /** Rejects every waiter, and every later one, with `err` (the node stops or failed). */
  close(err: Error): void {
    this.closedWith ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
