import { describe, expect, it } from "vitest";
import { ProgressTracker } from "../../src/tracker/progress-tracker.js";

function tracker(voters: number[], matches: number[] = []): ProgressTracker {
  const t = new ProgressTracker(16);
  voters.forEach((id, i) => t.addVoter(id, t.newProgress(matches[i] ?? 0, (matches[i] ?? 0) + 1)));
  return t;
}

describe("ProgressTracker", () => {
  it("keeps voters sorted and tells members apart", () => {
    const t = tracker([3, 1, 2]);
    expect(t.voters).toEqual([1, 2, 3]);
    expect(t.isVoter(2)).toBe(true);
    t.removeVoter(2);
    expect(t.voters).toEqual([1, 3]);
    expect(t.isVoter(2)).toBe(false);
    expect(t.confState()).toEqual({ voters: [1, 3] });
    expect(t.isSingleton()).toBe(false);
  });

  it("computes the commit index held by a majority", () => {
    expect(tracker([1, 2, 3], [5, 3, 1]).committed()).toBe(3);
    expect(tracker([1, 2, 3, 4], [5, 3, 1, 4]).committed()).toBe(3);
    expect(tracker([1], [7]).committed()).toBe(7);
    expect(tracker([1, 2, 3, 4, 5], [9, 9, 2, 2, 2]).committed()).toBe(2);
  });

  it("tallies votes: first answer counts", () => {
    const t = tracker([1, 2, 3, 4, 5]);
    t.recordVote(1, true);
    t.recordVote(2, false);
    t.recordVote(2, true); // ignored
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: "pending" });
    t.recordVote(3, true);
    t.recordVote(4, true);
    expect(t.tallyVotes().result).toBe("won");
    t.resetVotes();
    t.recordVote(1, false);
    t.recordVote(2, false);
    t.recordVote(3, false);
    expect(t.tallyVotes().result).toBe("lost");
  });

  it("knows whether a quorum was recently active, counting itself", () => {
    const t = tracker([1, 2, 3]);
    expect(t.quorumActive(1)).toBe(false);
    const p2 = t.progress.get(2);
    if (p2 !== undefined) p2.recentActive = true;
    expect(t.quorumActive(1)).toBe(true);
  });
});
