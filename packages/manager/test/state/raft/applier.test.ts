import { describe, expect, it } from "vitest";
import { InternalRaftRequest, ManualClock, RaftMember, RaftSnapshotData, silentLogger } from "@shoal/shared";
import { MemoryRaftDisk, encodeConfChange, type ConfChange, type ConfState, type Entry } from "@shoal/raft";
import { Applier } from "../../../src/state/raft/applier.js";
import { AppliedIndex } from "../../../src/state/raft/applied-index.js";
import { MemberSet } from "../../../src/state/raft/member-set.js";
import { PeerLiveness } from "../../../src/state/raft/peer-liveness.js";
import { ProposalQueue } from "../../../src/state/raft/proposal-queue.js";
import { Snapshotter } from "../../../src/state/raft/snapshotter.js";
import { seededRandomBytes } from "../../../src/random-bytes.js";
import { RecordingTransport } from "./support/recording-transport.js";
import { TestStateMachine, member } from "./support/test-state-machine.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function applier() {
  const sm = new TestStateMachine();
  const applied = new AppliedIndex();
  const members = new MemberSet(1, new RecordingTransport(), silentLogger());
  const submitted: Uint8Array[] = [];
  const proposals = new ProposalQueue({
    logger: silentLogger(),
    random: seededRandomBytes(1),
    submit: (batch) => submitted.push(...batch),
    submitConfChange: () => undefined,
    notLeader: () => new Error("not the leader"),
  });
  const snapshotter = new Snapshotter({
    disk: new MemoryRaftDisk(),
    stateMachine: sm,
    logger: silentLogger(),
    onPrepared: () => undefined,
  });
  const liveness = new PeerLiveness(new ManualClock(), 500);
  let removed = 0;
  const a = new Applier({
    self: 1,
    logger: silentLogger(),
    stateMachine: sm,
    applied,
    members,
    proposals,
    snapshotter,
    liveness,
    onRemoved: () => removed++,
  });
  return { a, sm, applied, members, proposals, submitted, liveness, removed: () => removed };
}

const normal = (index: number, id: number): Entry => ({
  index,
  term: 1,
  type: "normal",
  data: InternalRaftRequest.encode({ id, actions: [], audit: [] }).finish(),
});
const confChange = (index: number, cc: ConfChange): Entry => ({
  index,
  term: 1,
  type: "confChange",
  data: encodeConfChange(cc),
});

/** The RawNode's part: it answers a conf change with the new voters. */
function rawNode(voters: number[]) {
  const changes: ConfChange[] = [];
  return {
    changes,
    applyConfChange(cc: ConfChange): ConfState {
      changes.push(cc);
      if (cc.type === "addNode") voters.push(cc.nodeId);
      else voters.splice(voters.indexOf(cc.nodeId), 1);
      return { voters: [...voters] };
    },
  };
}

describe("Applier", () => {
  it("installs a snapshot: the state machine, the members, the voters and the applied index", () => {
    const { a, sm, applied, members } = applier();
    const store = new TextEncoder().encode(JSON.stringify([{ index: 4, id: 9 }]));
    const data = RaftSnapshotData.encode({ members: [member(1), member(2)], store }).finish();
    a.installSnapshot({ data, metadata: { index: 7, term: 2, confState: { voters: [1, 2] } } });
    expect(sm.applied).toEqual([{ index: 4, id: 9 }]);
    expect(members.list().map((m) => m.raftId)).toEqual([1, 2]);
    expect(a.confState).toEqual({ voters: [1, 2] });
    expect(applied.value).toBe(7);
  });

  it("applies committed entries in order, once, and resolves the proposals made here", async () => {
    const { a, sm, applied, proposals, submitted } = applier();
    const p = proposals.propose([]);
    await turn();
    const id = InternalRaftRequest.decode(submitted[0]!).id;
    const node = rawNode([1]);
    a.applyEntries(node, [normal(1, 5), normal(2, id), { index: 3, term: 1, type: "normal", data: new Uint8Array() }]);
    a.applyEntries(node, [normal(2, id), normal(4, 6)]);
    expect(sm.applied).toEqual([
      { index: 1, id: 5 },
      { index: 2, id },
      { index: 4, id: 6 },
    ]);
    expect(applied.value).toBe(4);
    expect(await p).toBe(2);
  });

  it("applies membership changes to the RawNode and the members, and resolves the change's waiter", async () => {
    const { a, members, proposals, liveness } = applier();
    members.replace([member(1)]);
    const node = rawNode([1]);
    const add: ConfChange = { type: "addNode", nodeId: 2, context: RaftMember.encode(member(2)).finish() };
    const waiting = proposals.changeMembership(add);
    a.applyEntries(node, [confChange(1, add)]);
    expect(await waiting).toBe(1);
    expect(a.confState).toEqual({ voters: [1, 2] });
    expect(members.list().map((m) => m.raftId)).toEqual([1, 2]);
    liveness.heard(2);
    a.applyEntries(node, [confChange(2, { type: "removeNode", nodeId: 2, context: new Uint8Array() })]);
    expect(members.list().map((m) => m.raftId)).toEqual([1]);
    expect(liveness.reachable(2)).toBe(false);
    expect(node.changes).toHaveLength(2);
  });

  it("tells the manager, in a microtask, that it was removed", async () => {
    const { a, removed } = applier();
    a.applyEntries(rawNode([1, 2]), [confChange(1, { type: "removeNode", nodeId: 1, context: new Uint8Array() })]);
    expect(removed()).toBe(0);
    await Promise.resolve();
    expect(removed()).toBe(1);
  });
});
