// Majority quorums over a set of voters: the commit index they have agreed on, the outcome of a vote and
// whether enough of them are active.

export type VoteResult = "pending" | "lost" | "won";

export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index that a majority of voters have acknowledged, given each voter's acknowledged index
 * (undefined for voters we know nothing about, counted as 0). An empty configuration commits nothing.
 */
export function committedIndex(voters: readonly number[], acked: (id: number) => number | undefined): number {
  const n = voters.length;
  if (n === 0) return 0;
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = acked(voters[i] as number) ?? 0;
  idx.sort((a, b) => b - a);
  // Sorted descending, the value at position majority-1 is held by at least a majority.
  return idx[majority(n) - 1] as number;
}

/** Outcome of a vote among voters given the votes received so far (true granted, false rejected). */
export function voteResult(voters: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  // By convention an empty configuration wins every election (it cannot hold one anyway).
  if (voters.length === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(voters.length);
  if (granted >= q) return "won";
  if (granted + missing >= q) return "pending";
  return "lost";
}
