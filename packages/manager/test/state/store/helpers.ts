// Test doubles for the store: a proposer whose commits the test drives.
import type { StoreAction } from "@shoal/shared";
import type { EntryApplier, Proposer } from "../../../src/state/store/index.js";

interface Proposal {
  readonly actions: StoreAction[];
  readonly resolve: (r: { index: number }) => void;
  readonly reject: (err: unknown) => void;
}

/** Holds proposals until the test commits (or fails) them. */
export class ManualProposer implements Proposer {
  readonly proposals: Proposal[] = [];
  private index = 0;

  propose(actions: StoreAction[]): Promise<{ index: number }> {
    return new Promise((resolve, reject) => this.proposals.push({ actions, resolve, reject }));
  }

  /** Commits the oldest proposal: applies it to `appliers`, then resolves it (or resolves first). */
  commit(appliers: readonly EntryApplier[], order: "apply-first" | "resolve-first" = "apply-first"): number {
    const p = this.proposals.shift();
    if (p === undefined) throw new Error("nothing proposed");
    const index = ++this.index;
    if (order === "resolve-first") p.resolve({ index });
    for (const a of appliers) a.applyEntry(index, structuredClone(p.actions));
    if (order === "apply-first") p.resolve({ index });
    return index;
  }

  fail(err: unknown): void {
    const p = this.proposals.shift();
    if (p === undefined) throw new Error("nothing proposed");
    p.reject(err);
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
