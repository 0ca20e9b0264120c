// Calls `fn` every `ms` by the clock until stopped: the Raft node's logical clock (tick()).
import type { Clock, Timer } from "@shoal/shared";

export class Ticker {
  private timer: Timer | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly fn: () => void,
  ) {
    this.timer = clock.setTimeout(() => this.tick(), ms);
  }

  /** Idempotent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private tick(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.tick(), this.ms);
    this.fn();
  }
}
