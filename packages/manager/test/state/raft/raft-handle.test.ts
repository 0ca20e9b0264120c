import { describe, expect, it, vi } from "vitest";
import { ErrorCode, type JoinResponse } from "@shoal/shared";
import { RaftHandle } from "../../../src/state/raft/raft-handle.js";
import type { RaftNode } from "../../../src/state/raft/raft-node.js";

function fakeNode(over: Partial<Record<keyof RaftNode, unknown>> = {}): RaftNode {
  return {
    admitting: false,
    isLeader: true,
    memberList: () => [{ raftId: 1, nodeId: "me", addr: "10.0.0.1:1" }],
    leaderAddr: () => "10.0.0.1:1",
    propose: vi.fn(() => Promise.resolve(7)),
    stop: vi.fn(() => Promise.resolve()),
    ...over,
  } as unknown as RaftNode;
}

const JOINED: JoinResponse = {
  raftId: 2,
  members: [{ raftId: 1, nodeId: "founder", addr: "10.0.0.1:1" }],
  removedMembers: [],
};

describe("RaftHandle", () => {
  it("copes with no node yet", async () => {
    const raft = new RaftHandle();
    expect(raft.node).toBeUndefined();
    expect(raft.isLeader).toBe(false);
    expect(raft.leaderAddr()).toBeUndefined();
    expect(raft.members()).toEqual([]);
    expect(raft.isRaftMember("anyone")).toBe(false);
    expect(() => raft.requireNode()).toThrow(expect.objectContaining({ code: ErrorCode.Unavailable }));
    await expect(raft.proposer().propose([])).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    await raft.stop();
  });

  it("proposes through the node once it runs, and stops it", async () => {
    const raft = new RaftHandle();
    const node = fakeNode();
    raft.started(node);
    await expect(raft.proposer().propose([])).resolves.toEqual({ index: 7 });
    expect(raft.isLeader).toBe(true);
    expect(raft.members().map((m) => m.nodeId)).toEqual(["me"]);
    await raft.stop();
    expect(node.stop).toHaveBeenCalled();
  });

  it("hears any manager while joining, then the members that admitted it until its admission is applied", async () => {
    const raft = new RaftHandle();
    let during = false;
    await raft.joining(() => {
      during = raft.isRaftMember("anyone");
      return Promise.resolve(JOINED);
    });
    expect(during).toBe(true);
    expect(raft.isRaftMember("anyone")).toBe(false);
    expect(raft.isRaftMember("founder")).toBe(true);
    const node = fakeNode({ admitting: true, memberList: () => [] });
    raft.started(node);
    expect(raft.isRaftMember("founder")).toBe(true);
    (node as unknown as { admitting: boolean }).admitting = false;
    expect(raft.isRaftMember("founder")).toBe(false);
  });

  it("is not joining once the Join call failed", async () => {
    const raft = new RaftHandle();
    await expect(raft.joining(() => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(raft.isRaftMember("anyone")).toBe(false);
  });
});
