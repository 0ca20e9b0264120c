// Exponential backoff with full jitter, for reconnects and retries.

export interface BackoffOptions {
  /** First delay in ms; default 100. */
  readonly initialMs?: number;
  /** Ceiling in ms; default 10 000. */
  readonly maxMs?: number;
  /** Growth per attempt; default 2. */
  readonly factor?: number;
  /** Fraction of the delay that is randomized, 0..1; default 0.2. */
  readonly jitter?: number;
  /** Source of randomness in [0, 1); default Math.random. Inject a seeded one in tests. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 10_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    if (this.initialMs <= 0 || this.maxMs < this.initialMs || this.factor < 1 || this.jitter < 0 || this.jitter > 1) {
      throw new RangeError("backoff: need 0 < initialMs <= maxMs, factor >= 1 and 0 <= jitter <= 1");
    }
  }

  /** The delay before the next attempt, in ms; each call counts one attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    const spread = base * this.jitter;
    return Math.round(base - spread + this.random() * 2 * spread);
  }

  /** Starts over after a success. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
