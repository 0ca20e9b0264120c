// What the writer saw: every write it made, in order, with the cluster's answer.
import type { Outcome } from "./failover-client.js";

export interface WriteRecord {
  readonly kind: "create" | "scale" | "remove";
  readonly service: string;
  /** What create and scale set. */
  readonly replicas?: number;
  readonly outcome: Outcome;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The manager that answered an acknowledged write. */
  readonly manager?: string;
  readonly error?: string;
}

export class History {
  readonly records: WriteRecord[] = [];

  add(record: WriteRecord): void {
    this.records.push(record);
  }

  count(outcome: Outcome): number {
    return this.records.filter((r) => r.outcome === outcome).length;
  }

  /** One line for test output: how many writes of each outcome. */
  summary(): string {
    const ms = this.records.map((r) => r.endedAt - r.startedAt).sort((a, b) => a - b);
    const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(ms.length * q))] ?? 0;
    return (
      `${this.records.length} writes: ${this.count("acked")} acknowledged, ${this.count("refused")} refused, ` +
      `${this.count("ambiguous")} ambiguous; latency p50 ${at(0.5)} ms, max ${at(1)} ms`
    );
  }
}
