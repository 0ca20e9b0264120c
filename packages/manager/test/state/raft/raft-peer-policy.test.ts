import { describe, expect, it } from "vitest";
import { isRaftPeer, type RaftPeerState } from "../../../src/state/raft/raft-peer-policy.js";

const base: RaftPeerState = { joining: false, started: false, admitting: false, members: [], joinedMembers: [] };
const m = (nodeId: string): { nodeId: string } => ({ nodeId });

describe("isRaftPeer", () => {
  it("hears any manager while the Join call is out", () => {
    expect(isRaftPeer("anyone", { ...base, joining: true })).toBe(true);
  });

  it("hears the group's current members", () => {
    const running = { ...base, started: true, members: [m("a"), m("b")] };
    expect(isRaftPeer("a", running)).toBe(true);
    expect(isRaftPeer("c", running)).toBe(false);
  });

  it("hears the members learnt when joining until its raft runs", () => {
    expect(isRaftPeer("a", { ...base, joinedMembers: [m("a")] })).toBe(true);
    expect(isRaftPeer("b", { ...base, joinedMembers: [m("a")] })).toBe(false);
  });

  it("hears them while the running node is still admitting, no longer once admitted", () => {
    const joined = { ...base, started: true, joinedMembers: [m("a")], members: [m("me")] };
    expect(isRaftPeer("a", { ...joined, admitting: true })).toBe(true);
    expect(isRaftPeer("a", { ...joined, admitting: false })).toBe(false);
    expect(isRaftPeer("me", { ...joined, admitting: false })).toBe(true);
  });

  it("hears nobody before it runs when it did not join (a restart)", () => {
    expect(isRaftPeer("a", base)).toBe(false);
  });
});
