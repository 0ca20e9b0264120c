import { describe, expect, it, vi } from "vitest";
import { LeadershipHandover } from "../../../src/state/raft/leadership-handover.js";
import type { RaftNode } from "../../../src/state/raft/raft-node.js";

const node = (isLeader: boolean, transfer = vi.fn(() => Promise.resolve(true))): RaftNode =>
  ({ isLeader, transferLeadership: transfer }) as unknown as RaftNode;

describe("LeadershipHandover", () => {
  it("on stop, a leader hands leadership over, once", async () => {
    const leader = node(true);
    const handover = new LeadershipHandover({ node: leader });
    await handover.run();
    await Promise.all([handover.stop(), handover.stop()]);
    expect(leader.transferLeadership).toHaveBeenCalledTimes(1);
  });

  it("a follower, or a manager whose raft never ran, has nothing to hand over", async () => {
    const follower = node(false);
    await new LeadershipHandover({ node: follower }).stop();
    expect(follower.transferLeadership).not.toHaveBeenCalled();
    await new LeadershipHandover({ node: undefined }).stop();
  });

  it("a failed transfer does not fail the stop", async () => {
    const leader = node(
      true,
      vi.fn(() => Promise.reject(new Error("no quorum"))),
    );
    await expect(new LeadershipHandover({ node: leader }).stop()).resolves.toBeUndefined();
  });
});
