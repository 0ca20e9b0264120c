// Behaviour of the Raft core beyond the paper's rules (those are in raft-paper.test.ts): flow control,
// snapshots, forwarding and the defensive handling of stale or odd messages.
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import type { Raft } from "../src/raft.js";
import type { Message } from "../src/types.js";
import { ent, ents } from "./support/entries.js";
import {
  msg,
  newTestRaft,
  persistAndApply,
  propMsg,
  readMessages,
  type TestRaftOptions,
} from "./support/raft-harness.js";

/** A leader of term 1 over voters [1, 2, 3] whose no-op (index 1) is stored everywhere, followers in
 *  the replicate state. */
function steadyLeader(options: TestRaftOptions = {}): { r: Raft; s: MemoryStorage } {
  const s = new MemoryStorage({ confState: { voters: [1, 2, 3] } });
  const r = newTestRaft(1, [1, 2, 3], { ...options, storage: s });
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  for (const id of [2, 3]) r.step(msg({ type: "MsgAppResp", from: id, to: 1, term: 1, index: 1 }));
  readMessages(r);
  persistAndApply(r, s);
  return { r, s };
}

const apps = (msgs: Message[], to: number) => msgs.filter((m) => m.type === "MsgApp" && m.to === to);

describe("Raft: flow control", () => {
  it("batches entries into messages of at most maxSizePerMsg bytes", () => {
    const { r } = steadyLeader({ maxSizePerMsg: 40 }); // two 16-byte empty entries fit, three do not
    r.trk.progress.get(2)?.becomeProbe(); // make 2 send from the log on its next probe
    for (let i = 0; i < 5; i++) r.step(propMsg(1, ""));
    readMessages(r);
    r.step(msg({ type: "MsgHeartbeatResp", from: 2, to: 1, term: 1 }));
    const [m] = apps(readMessages(r), 2);
    expect(m?.entries.length).toBe(2);
  });

  it("pipelines up to maxInflightMsgs appends to a replicating follower, then waits for acks", () => {
    const { r } = steadyLeader({ maxInflightMsgs: 2 });
    for (let i = 0; i < 4; i++) r.step(propMsg(1));
    const sent = apps(readMessages(r), 2);
    expect(sent.map((m) => m.entries[0]?.index)).toEqual([2, 3]); // then the window is full
    expect(r.trk.progress.get(2)?.isPaused()).toBe(true);
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 2 }));
    // The window has room again: everything pending goes, batched in one message.
    expect(apps(readMessages(r), 2).map((m) => m.entries.map((e) => e.index))).toEqual([[4, 5]]);
  });

  it("a heartbeat response frees a slot of a full window so replication cannot stall on lost acks", () => {
    const { r } = steadyLeader({ maxInflightMsgs: 1 });
    r.step(propMsg(1));
    r.step(propMsg(1));
    expect(apps(readMessages(r), 2).length).toBe(1);
    r.step(msg({ type: "MsgHeartbeatResp", from: 2, to: 1, term: 1 }));
    expect(apps(readMessages(r), 2).map((m) => m.entries.map((e) => e.index))).toEqual([[3]]);
  });

  it("probes one message at a time until the follower answers", () => {
    const { r } = steadyLeader();
    r.trk.progress.get(2)?.becomeProbe();
    r.step(propMsg(1));
    r.step(propMsg(1));
    expect(apps(readMessages(r), 2).length).toBe(1);
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 3 }));
    expect(r.trk.progress.get(2)?.state).toBe("replicate");
  });

  it("falls back to probing on a rejection in the replicate state or an unreachable report", () => {
    const { r } = steadyLeader();
    r.step(propMsg(1));
    r.step(propMsg(1));
    readMessages(r);
    // The append of entry 2 was lost: the follower rejects the next one (previous index 2).
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 2, reject: true, rejectHint: 1, logTerm: 1 }));
    expect(r.trk.progress.get(2)?.state).toBe("probe");
    expect(apps(readMessages(r), 2).map((m) => m.index)).toEqual([1]); // resent from the match
    r.step(msg({ type: "MsgUnreachable", from: 3, to: 1 }));
    expect(r.trk.progress.get(3)?.state).toBe("probe");
  });

  it("ignores stale acknowledgements and rejections", () => {
    const { r } = steadyLeader();
    r.step(propMsg(1));
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 2 }));
    readMessages(r);
    const pr = r.trk.progress.get(2);
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 1 })); // older ack
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 1, reject: true, rejectHint: 0 })); // older reject
    expect([pr?.match, pr?.state]).toEqual([2, "replicate"]);
    expect(readMessages(r)).toEqual([]);
  });

  it("skips a whole divergent term per round trip using the follower's hint", () => {
    // Leader: 1/1 1/2 1/3 4/4 4/5 4/6 (term 5 now); follower: 1/1 1/2 1/3 2/4 2/5 3/6 3/7 3/8.
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    s.append(ents(1, 1, 1, 1, 4, 4, 4));
    s.setHardState({ term: 4, vote: 0, commit: 3 });
    const lead = newTestRaft(1, [1, 2], { storage: s });
    lead.becomeCandidate();
    lead.becomeLeader(); // term 5, no-op at 7
    readMessages(lead);
    const fs = new MemoryStorage({ confState: { voters: [1, 2] } });
    fs.append(ents(1, 1, 1, 1, 2, 2, 3, 3, 3));
    fs.setHardState({ term: 4, vote: 0, commit: 3 });
    const follower = newTestRaft(2, [1, 2], { storage: fs });
    let roundTrips = 0;
    lead.sendAppend(2);
    for (let guard = 0; guard < 10; guard++) {
      const out = apps(readMessages(lead), 2);
      if (out.length === 0) break;
      roundTrips++;
      for (const m of out) follower.step(m);
      for (const m of readMessages(follower)) lead.step(m);
    }
    expect(follower.log.entries(1, 1e9).map((e) => e.term)).toEqual([1, 1, 1, 4, 4, 4, 5]);
    // One-entry-at-a-time backtracking would need 5 round trips; by term it takes 3.
    expect(roundTrips).toBeLessThanOrEqual(3);
  });
});

describe("Raft: snapshots", () => {
  function compactedLeader(): { r: Raft; s: MemoryStorage } {
    const { r, s } = steadyLeader();
    for (let i = 0; i < 5; i++) r.step(propMsg(1));
    for (const id of [2, 3]) r.step(msg({ type: "MsgAppResp", from: id, to: 1, term: 1, index: 6 }));
    persistAndApply(r, s);
    s.createSnapshot(6, { voters: [1, 2, 3] }, new Uint8Array([42]));
    s.compact(6);
    readMessages(r);
    return { r, s };
  }

  it("sends a snapshot to a follower that needs compacted entries, then waits", () => {
    const { r } = compactedLeader();
    const pr = r.trk.progress.get(2);
    if (pr === undefined) throw new Error("no progress");
    pr.becomeProbe();
    pr.next = 3; // the follower lost its log: it needs entries from 3, which are compacted
    pr.match = 0;
    pr.recentActive = true;
    r.sendAppend(2);
    const [snap] = readMessages(r);
    expect([snap?.type, snap?.snapshot?.metadata.index]).toEqual(["MsgSnap", 6]);
    expect([pr.state, pr.pendingSnapshot, pr.isPaused()]).toEqual(["snapshot", 6, true]);
    // Failure: back to probing after the snapshot (pending reset), paused until the next heartbeat.
    r.step(msg({ type: "MsgSnapStatus", from: 2, to: 1, reject: true }));
    expect([pr.state, pr.isPaused(), pr.next]).toEqual(["probe", true, 1]);
    r.step(msg({ type: "MsgHeartbeatResp", from: 2, to: 1, term: 1 }));
    expect(readMessages(r).map((m) => m.type)).toEqual(["MsgSnap"]);
    // Success: the follower's ack of the snapshot index moves it to replicate.
    r.step(msg({ type: "MsgSnapStatus", from: 2, to: 1, reject: false }));
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 1, index: 6 }));
    expect([pr.state, pr.match]).toEqual(["replicate", 6]);
  });

  it("does not send a snapshot to a follower that was not recently active", () => {
    const { r } = compactedLeader();
    const pr = r.trk.progress.get(2);
    if (pr === undefined) throw new Error("no progress");
    pr.becomeProbe();
    pr.next = 3;
    pr.match = 0;
    pr.recentActive = false;
    r.sendAppend(2);
    expect(readMessages(r)).toEqual([]);
  });

  it("a follower installs a newer snapshot, with its configuration, and acknowledges it", () => {
    const r = newTestRaft(2, [1, 2, 3]);
    r.becomeFollower(2, 1);
    const snapshot = { data: new Uint8Array([1]), metadata: { index: 11, term: 2, confState: { voters: [1, 2] } } };
    r.step(msg({ type: "MsgSnap", from: 1, to: 2, term: 2, snapshot }));
    expect([r.log.committed, r.log.lastIndex(), r.trk.voters]).toEqual([11, 11, [1, 2]]);
    expect(r.log.unstable.snapshot).toBe(snapshot);
    const [resp] = readMessages(r);
    expect([resp?.type, resp?.index]).toEqual(["MsgAppResp", 11]);
    // The same snapshot again is stale: answered with the commit index, nothing changes.
    r.step(msg({ type: "MsgSnap", from: 1, to: 2, term: 2, snapshot }));
    expect(readMessages(r).map((m) => [m.type, m.index])).toEqual([["MsgAppResp", 11]]);
  });

  it("a follower that already has the snapshot's last entry only commits up to it", () => {
    const r = newTestRaft(2, [1, 2, 3], {
      storage: (() => {
        const s = new MemoryStorage({ confState: { voters: [1, 2, 3] } });
        s.append(ents(1, 1, 1, 1));
        return s;
      })(),
    });
    r.becomeFollower(1, 1);
    const snapshot = { data: new Uint8Array(0), metadata: { index: 2, term: 1, confState: { voters: [1, 2, 3] } } };
    r.step(msg({ type: "MsgSnap", from: 1, to: 2, term: 1, snapshot }));
    expect([r.log.committed, r.log.lastIndex(), r.log.unstable.snapshot]).toEqual([2, 3, undefined]);
  });
});

describe("Raft: forwarding and odd messages", () => {
  it("a follower forwards proposals to its leader (without a term), unless forwarding is disabled", () => {
    const r = newTestRaft(2, [1, 2, 3]);
    r.becomeFollower(1, 1);
    r.step(propMsg(2));
    const [m] = readMessages(r);
    expect([m?.type, m?.to, m?.from, m?.term]).toEqual(["MsgProp", 1, 2, 0]);
    const quiet = newTestRaft(2, [1, 2, 3], { disableProposalForwarding: true });
    quiet.becomeFollower(1, 1);
    expect(() => quiet.step(propMsg(2))).toThrow(ProposalDroppedError);
  });

  it("forwards copies: the incoming message is left untouched", () => {
    const r = newTestRaft(2, [1, 2, 3]);
    r.becomeFollower(4, 1);
    const prop = propMsg(2);
    const transfer = msg({ type: "MsgTransferLeader", from: 3, to: 2, term: 4 });
    const frozenProp = structuredClone(prop);
    const frozenTransfer = structuredClone(transfer);
    r.step(prop);
    r.step(transfer);
    expect(prop).toEqual(frozenProp);
    expect(transfer).toEqual(frozenTransfer);
    expect(readMessages(r).map((m) => [m.type, m.to, m.from, m.term])).toEqual([
      ["MsgProp", 1, 2, 0],
      ["MsgTransferLeader", 1, 3, 4],
    ]);
  });

  it("a candidate drops proposals", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeCandidate();
    expect(() => r.step(propMsg(1))).toThrow(ProposalDroppedError);
  });

  it("a pre-candidate ignores pre-vote grants from an earlier round", () => {
    const r = newTestRaft(1, [1, 2, 3], { preVote: true });
    r.becomeFollower(3, 0);
    r.campaign("preElection"); // asks for term 4
    readMessages(r);
    r.step(msg({ type: "MsgPreVoteResp", from: 2, to: 1, term: 3 })); // a grant for term 3: stale
    expect(r.role).toBe("preCandidate");
    r.step(msg({ type: "MsgPreVoteResp", from: 2, to: 1, term: 4 }));
    expect([r.role, r.term]).toEqual(["candidate", 4]);
  });

  it("answers a pre-vote with a stale term by a rejection carrying its own term", () => {
    const r = newTestRaft(1, [1, 2, 3], { preVote: true });
    r.becomeFollower(5, 0);
    r.step(msg({ type: "MsgPreVote", from: 2, to: 1, term: 3, index: 9, logTerm: 3 }));
    expect(readMessages(r).map((m) => [m.type, m.term, m.reject])).toEqual([["MsgPreVoteResp", 5, true]]);
  });

  it("responses from nodes outside the configuration are ignored by the leader", () => {
    const { r } = steadyLeader();
    r.step(msg({ type: "MsgAppResp", from: 9, to: 1, term: 1, index: 100 }));
    expect(r.log.committed).toBe(1);
  });

  it("a heartbeat commits only what the follower is known to hold", () => {
    const r = newTestRaft(2, [1, 2, 3]);
    r.becomeFollower(1, 1);
    r.step(msg({ type: "MsgApp", from: 1, to: 2, term: 1, entries: [ent(1, 1), ent(2, 1)] }));
    r.step(msg({ type: "MsgHeartbeat", from: 1, to: 2, term: 1, commit: 2 }));
    expect(r.log.committed).toBe(2);
  });
});
