// A component for lifecycle tests: records run and stop in a shared journal, and can be made to
// fail, or to hold its start-up until released or aborted.
import type { Component } from "../../src/lifecycle/component.js";

export class FakeComponent implements Component {
  signal: AbortSignal | undefined;
  stops = 0;
  private release: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly journal: string[],
    private readonly behaviour: { fail?: Error; hold?: boolean; failStop?: Error } = {},
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.journal.push(`run ${this.name}`);
    if (this.behaviour.hold) {
      await new Promise<void>((resolve, reject) => {
        this.release = resolve;
        signal.addEventListener("abort", () => reject(new Error(`${this.name} aborted`)), { once: true });
      });
    }
    if (this.behaviour.fail) throw this.behaviour.fail;
    this.journal.push(`up ${this.name}`);
  }

  /** Lets a held start-up finish. */
  up(): void {
    this.release?.();
  }

  stop(): void {
    this.stops++;
    this.journal.push(`stop ${this.name}${this.signal?.aborted ? " (aborted)" : ""}`);
    if (this.behaviour.failStop) throw this.behaviour.failStop;
  }
}

/** Lets queued callbacks run. */
export async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
