import { describe, expect, it, vi } from "vitest";
import { RaftMember, silentLogger } from "@shoal/shared";
import { makeMessage } from "@shoal/raft";
import { MemberSet } from "../../../src/state/raft/member-set.js";
import { RecordingTransport } from "./support/recording-transport.js";

const member = (id: number): RaftMember => RaftMember.create({ raftId: id, nodeId: `n${id}`, addr: `m${id}:1` });
const from = (id: number) => makeMessage({ type: "MsgHeartbeat", from: id, to: 1 });
const addNode = (id: number) => ({
  type: "addNode" as const,
  nodeId: id,
  context: RaftMember.encode(member(id)).finish(),
});

describe("MemberSet", () => {
  it("keeps the transport's peers in step with the members, itself left out", () => {
    const transport = new RecordingTransport();
    const set = new MemberSet(1, transport, silentLogger());
    set.replace([member(1), member(2)]);
    expect([...transport.peers]).toEqual([[2, "m2:1"]]);
    set.applyConfChange(addNode(3));
    expect([...transport.peers.keys()]).toEqual([2, 3]);
    expect(set.list().map((m) => m.raftId)).toEqual([1, 2, 3]);
    expect(set.get(3)).toEqual(member(3));
    set.applyConfChange({ type: "removeNode", nodeId: 3, context: new Uint8Array() });
    expect(set.size).toBe(2);
  });

  it("hears every sender until it knows the group, then members only, logging a refused sender once", () => {
    const logger = silentLogger();
    const warn = vi.spyOn(logger, "warn");
    const set = new MemberSet(1, new RecordingTransport(), logger);
    expect(set.accepts(from(7))).toBe(true);
    set.replace([member(1), member(2)]);
    expect(set.accepts(from(2))).toBe(true);
    expect(set.accepts(from(7))).toBe(false);
    expect(set.accepts(from(7))).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("hears the members that admitted a joiner until its own admission is applied", () => {
    const set = new MemberSet(3, new RecordingTransport(), silentLogger());
    set.admittedThrough([member(1), member(2)]);
    // The leader's snapshot names the founder alone.
    set.replace([member(1)]);
    expect(set.admitting).toBe(true);
    expect(set.accepts(from(2))).toBe(true);
    set.applyConfChange(addNode(2));
    set.applyConfChange(addNode(3));
    expect(set.admitting).toBe(false);
    set.applyConfChange({ type: "removeNode", nodeId: 2, context: new Uint8Array() });
    expect(set.accepts(from(2))).toBe(false);
  });

  it("stops sending to voters that are no longer members", () => {
    const transport = new RecordingTransport();
    const set = new MemberSet(1, transport, silentLogger());
    set.replace([member(1), member(2)]);
    set.removeStale([1, 2, 5]);
    expect(transport.removed).toEqual([5]);
  });

  it("hands out copies", () => {
    const set = new MemberSet(1, new RecordingTransport(), silentLogger());
    set.replace([member(1)]);
    set.list()[0]!.addr = "changed";
    expect(set.get(1)?.addr).toBe("m1:1");
  });
});
