// One test per rule of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm", extended version), named after its section, plus the extensions of Ongaro's thesis this
// implementation carries: pre-vote (9.6), check-quorum / leader lease (6.2, 4.2.3), leadership transfer
// (3.10), read index (6.4) and single-server membership changes (4.1).
import { describe, expect, it } from "vitest";
import { encodeConfChange } from "../src/conf-change-codec.js";
import { ProposalDroppedError } from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import type { Raft } from "../src/raft.js";
import type { Entry, Message, MessageType } from "../src/types.js";
import { ent, ents, indexTerms } from "./support/entries.js";
import {
  hup,
  logOf,
  msg,
  newTestRaft,
  persistAndApply,
  propMsg,
  RaftNet,
  readMessages,
  type TestRaftOptions,
} from "./support/raft-harness.js";

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Make r the leader of the next term without an election, discarding its messages. */
function makeLeader(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
}

/** The answer of a follower that accepted a MsgApp. */
function acceptAndReply(m: Message): Message {
  return msg({ type: "MsgAppResp", from: m.to, to: m.from, term: m.term, index: m.index + m.entries.length });
}

/** Commit the leader's no-op entry by having every follower accept it. */
function commitNoop(r: Raft, storage: MemoryStorage): void {
  r.bcastAppend();
  for (const m of readMessages(r)) {
    if (m.type === "MsgApp" && m.entries.length === 1 && m.entries[0]?.data.byteLength === 0) r.step(acceptAndReply(m));
  }
  readMessages(r);
  persistAndApply(r, storage);
}

function types(msgs: Message[]): MessageType[] {
  return msgs.map((m) => m.type);
}

function storageWith(voters: number[], entries: Entry[], term = 0, commit = 0): MemoryStorage {
  const s = new MemoryStorage({ confState: { voters } });
  s.append(entries);
  if (term > 0 || commit > 0) s.setHardState({ term, vote: 0, commit });
  return s;
}

function raftWith(id: number, voters: number[], entries: Entry[], term = 0, options: TestRaftOptions = {}): Raft {
  return newTestRaft(id, voters, { ...options, storage: storageWith(voters, entries, term) });
}

describe("5.1 Raft basics", () => {
  it("5.1 nodes start as followers", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    expect(r.role).toBe("follower");
    expect(r.term).toBe(0);
  });

  it("5.1 a node that sees a higher term adopts it and becomes (or stays) a follower", () => {
    const setups: Array<[string, (r: Raft) => void]> = [
      ["follower", (r) => r.becomeFollower(1, 2)],
      ["candidate", (r) => r.becomeCandidate()],
      ["leader", (r) => makeLeader(r)],
    ];
    for (const [name, setup] of setups) {
      const r = newTestRaft(1, [1, 2, 3]);
      setup(r);
      r.step(msg({ type: "MsgApp", from: 2, to: 1, term: 2 }));
      expect([name, r.role, r.term, r.lead]).toEqual([name, "follower", 2, 2]);
    }
  });

  it("5.1 a vote request with a higher term makes a leader step down (leader unknown)", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    makeLeader(r);
    r.step(msg({ type: "MsgVote", from: 2, to: 1, term: 2, index: 5, logTerm: 1 }));
    expect([r.role, r.term, r.lead]).toEqual(["follower", 2, 0]);
  });

  it("5.1 a node ignores requests with a stale term", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeFollower(2, 2);
    r.step(msg({ type: "MsgApp", from: 3, to: 1, term: 1, index: 0, logTerm: 0, entries: [ent(1, 1)] }));
    expect(readMessages(r)).toEqual([]);
    expect([r.term, r.lead, r.log.lastIndex()]).toEqual([2, 2, 0]);
  });
});

describe("5.2 Leader election", () => {
  it("5.2 a leader sends heartbeats every heartbeat interval, carrying no commit beyond the follower's match", () => {
    const r = newTestRaft(1, [1, 2, 3], { heartbeatTick: 2 });
    makeLeader(r);
    r.step(propMsg(1));
    readMessages(r);
    r.tick();
    expect(readMessages(r)).toEqual([]);
    r.tick();
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.term, m.commit])).toEqual([
      ["MsgHeartbeat", 2, 1, 0],
      ["MsgHeartbeat", 3, 1, 0],
    ]);
  });

  it("5.2 a follower (or candidate) that hears nothing for an election timeout starts an election", () => {
    for (const role of ["follower", "candidate"] as const) {
      const r = newTestRaft(1, [1, 2, 3]);
      if (role === "follower") r.becomeFollower(1, 2);
      else r.becomeCandidate();
      for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
      expect([role, r.role, r.term, r.vote]).toEqual([role, "candidate", 2, 1]);
      const msgs = readMessages(r).filter((m) => m.type === "MsgVote");
      expect(msgs.map((m) => [m.to, m.term])).toEqual([
        [2, 2],
        [3, 2],
      ]);
    }
  });

  it("5.2 a candidate wins with votes from a majority, loses to a majority of rejections, else waits", () => {
    const cases: Array<[number, Record<number, boolean>, string]> = [
      [1, {}, "leader"],
      [3, { 2: true, 3: true }, "leader"],
      [3, { 2: true }, "leader"],
      [5, { 2: true, 3: true, 4: true, 5: true }, "leader"],
      [5, { 2: true, 3: true, 4: true }, "leader"],
      [5, { 2: true, 3: true }, "leader"],
      [3, { 2: false, 3: false }, "follower"],
      [5, { 2: false, 3: false, 4: false, 5: false }, "follower"],
      [5, { 2: true, 3: false, 4: false, 5: false }, "follower"],
      [3, {}, "candidate"],
      [5, { 2: true }, "candidate"],
      [5, { 2: false, 3: false }, "candidate"],
      [5, {}, "candidate"],
    ];
    for (const [size, votes, want] of cases) {
      const r = newTestRaft(1, ids(size));
      r.step(hup(1));
      for (const [id, granted] of Object.entries(votes)) {
        r.step(msg({ type: "MsgVoteResp", from: Number(id), to: 1, term: r.term, reject: !granted }));
      }
      expect([size, votes, r.role, r.term]).toEqual([size, votes, want, 1]);
    }
  });

  it("5.2 a node votes for at most one candidate per term, first come first served", () => {
    const cases: Array<[number, number, boolean]> = [
      [0, 2, false],
      [0, 3, false],
      [2, 2, false],
      [3, 3, false],
      [2, 3, true],
      [3, 2, true],
    ];
    for (const [vote, candidate, wantReject] of cases) {
      const r = newTestRaft(1, [1, 2, 3]);
      r.term = 1;
      r.vote = vote;
      r.step(msg({ type: "MsgVote", from: candidate, to: 1, term: 1 }));
      const resp = readMessages(r);
      expect(resp.map((m) => [m.type, m.to, m.term, m.reject])).toEqual([["MsgVoteResp", candidate, 1, wantReject]]);
      expect(r.vote).toBe(vote === 0 ? candidate : vote);
    }
  });

  it("5.2 a candidate returns to follower when a leader of its term (or a newer one) appears", () => {
    for (const term of [1, 2]) {
      const r = newTestRaft(1, [1, 2, 3]);
      r.step(hup(1));
      expect(r.role).toBe("candidate");
      r.step(msg({ type: "MsgApp", from: 2, to: 1, term }));
      expect([r.role, r.term, r.lead]).toEqual(["follower", term, 2]);
    }
  });

  it("5.2 a candidate that loses to a higher term steps down without a leader", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.step(hup(1));
    r.step(msg({ type: "MsgVoteResp", from: 2, to: 1, term: 5, reject: true }));
    expect([r.role, r.term, r.lead]).toEqual(["follower", 5, 0]);
  });

  it("5.2 election timeouts are randomized in [electionTimeout, 2 * electionTimeout)", () => {
    for (const role of ["follower", "candidate"] as const) {
      const r = newTestRaft(1, [1, 2, 3]);
      const et = r.electionTimeout;
      const seen = new Set<number>();
      for (let round = 0; round < 50 * et; round++) {
        if (role === "follower") r.becomeFollower(r.term + 1, 2);
        else r.becomeCandidate();
        readMessages(r);
        let time = 0;
        while (readMessages(r).length === 0) {
          r.tick();
          time++;
        }
        seen.add(time);
      }
      // Elapsed ticks before the timeout fires: in [et, 2et); firing on the tick that reaches it.
      expect(Math.min(...seen)).toBeGreaterThanOrEqual(et);
      expect(Math.max(...seen)).toBeLessThanOrEqual(2 * et);
      for (let d = et + 1; d < 2 * et; d++) expect(seen.has(d)).toBe(true);
    }
  });

  it("5.2 randomized timeouts make simultaneous candidacies (split votes) rare", () => {
    const size = 5;
    const et = 10;
    let conflicts = 0;
    const rounds = 1000;
    const nodes = ids(size).map((id) => newTestRaft(id, ids(size), { electionTick: et }));
    for (let round = 0; round < rounds; round++) {
      for (const r of nodes) r.becomeFollower(r.term + 1, 0);
      let timedOut = 0;
      while (timedOut === 0) {
        for (const r of nodes) {
          r.tick();
          if (readMessages(r).length > 0) timedOut++;
        }
      }
      if (timedOut > 1) conflicts++;
    }
    expect(conflicts / rounds).toBeLessThanOrEqual(0.3);
  });
});

describe("5.3 Log replication", () => {
  it("5.3 the leader appends a proposal to its log and sends it to every follower in AppendEntries", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2, 3] } });
    const r = newTestRaft(1, [1, 2, 3], { storage: s });
    makeLeader(r);
    commitNoop(r, s);
    const li = r.log.lastIndex();
    r.step(propMsg(1, "some data"));
    expect(r.log.lastIndex()).toBe(li + 1);
    const msgs = readMessages(r);
    expect(msgs.map((m) => [m.type, m.to, m.index, m.logTerm, m.commit, indexTerms(m.entries)])).toEqual([
      ["MsgApp", 2, li, 1, li, [[li + 1, 1]]],
      ["MsgApp", 3, li, 1, li, [[li + 1, 1]]],
    ]);
    expect(indexTerms(r.log.unstableEntries())).toEqual([[li + 1, 1]]);
  });

  it("5.3 the leader commits an entry stored on a majority, applies it and tells the followers", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2, 3] } });
    const r = newTestRaft(1, [1, 2, 3], { storage: s });
    makeLeader(r);
    commitNoop(r, s);
    const li = r.log.lastIndex();
    r.step(propMsg(1, "some data"));
    for (const m of readMessages(r)) r.step(acceptAndReply(m));
    expect(r.log.committed).toBe(li + 1);
    const applied = persistAndApply(r, s);
    expect(applied.map((e) => [e.index, new TextDecoder().decode(e.data)])).toEqual([[li + 1, "some data"]]);
    const msgs = readMessages(r).filter((m) => m.type === "MsgApp");
    expect(msgs.map((m) => [m.to, m.commit])).toEqual([
      [2, li + 1],
      [3, li + 1],
    ]);
  });

  it("5.3 an entry commits once the leader knows a majority (itself included) stores it", () => {
    const cases: Array<[number, number[], boolean]> = [
      [1, [], true],
      [3, [], false],
      [3, [2], true],
      [3, [2, 3], true],
      [5, [], false],
      [5, [2], false],
      [5, [2, 3], true],
      [5, [2, 3, 4], true],
      [5, [2, 3, 4, 5], true],
    ];
    for (const [size, acceptors, wantCommit] of cases) {
      const s = new MemoryStorage({ confState: { voters: ids(size) } });
      const r = newTestRaft(1, ids(size), { storage: s });
      makeLeader(r);
      commitNoop(r, s);
      const li = r.log.lastIndex();
      r.step(propMsg(1));
      for (const m of readMessages(r)) if (acceptors.includes(m.to)) r.step(acceptAndReply(m));
      expect([size, acceptors, r.log.committed > li]).toEqual([size, acceptors, wantCommit]);
    }
  });

  it("5.3 committing an entry also commits all preceding entries, including earlier leaders'", () => {
    const cases: Entry[][] = [[], [ent(1, 2)], [ent(1, 1), ent(2, 2)], [ent(1, 1)]];
    for (const previous of cases) {
      const r = raftWith(1, [1, 2, 3], previous, 2);
      makeLeader(r);
      r.step(propMsg(1));
      for (const m of readMessages(r)) r.step(acceptAndReply(m));
      const li = previous.length;
      const committed = r.log.nextCommittedEntries();
      expect(indexTerms(committed)).toEqual([...indexTerms(previous), [li + 1, 3], [li + 2, 3]]);
    }
  });

  it("5.3 a follower applies entries once it learns from the leader that they are committed", () => {
    const cases: Array<[Entry[], number]> = [
      [[ent(1, 1, "a")], 1],
      [[ent(1, 1, "a"), ent(2, 1, "b")], 2],
      [[ent(1, 1, "a"), ent(2, 1, "b")], 1],
    ];
    for (const [entries, commit] of cases) {
      const r = newTestRaft(1, [1, 2, 3]);
      r.becomeFollower(1, 2);
      r.step(msg({ type: "MsgApp", from: 2, to: 1, term: 1, entries, commit }));
      expect(r.log.committed).toBe(commit);
      expect(indexTerms(r.log.nextCommittedEntries())).toEqual(indexTerms(entries.slice(0, commit)));
    }
  });

  it("5.3 a follower rejects AppendEntries when it lacks the preceding entry, hinting where to retry", () => {
    // Follower log: 1/1, 2/2; commit 1.
    const cases: Array<[number, number, { index: number; reject: boolean; hint: number; logTerm: number }]> = [
      [0, 0, { index: 1, reject: false, hint: 0, logTerm: 0 }], // below commit: answered with the commit
      [1, 1, { index: 1, reject: false, hint: 0, logTerm: 0 }],
      [2, 2, { index: 2, reject: false, hint: 0, logTerm: 0 }],
      [1, 2, { index: 2, reject: true, hint: 1, logTerm: 1 }], // term mismatch at 2
      [3, 3, { index: 3, reject: true, hint: 2, logTerm: 2 }], // index beyond the log
    ];
    for (const [logTerm, index, want] of cases) {
      const s = storageWith([1, 2, 3], [ent(1, 1), ent(2, 2)], 0, 1);
      const r = newTestRaft(1, [1, 2, 3], { storage: s });
      r.becomeFollower(2, 2);
      r.step(msg({ type: "MsgApp", from: 2, to: 1, term: 2, logTerm, index }));
      const [resp] = readMessages(r);
      expect([resp?.type, resp?.index, resp?.reject, resp?.rejectHint, resp?.logTerm]).toEqual([
        "MsgAppResp",
        want.index,
        want.reject,
        want.hint,
        want.logTerm,
      ]);
    }
  });

  it("5.3 a follower deletes conflicting entries and everything after them, then appends new ones", () => {
    const cases: Array<[number, number, Entry[], Array<[number, number]>]> = [
      [
        2,
        2,
        [ent(3, 3)],
        [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      ],
      [
        1,
        1,
        [ent(2, 3), ent(3, 4)],
        [
          [1, 1],
          [2, 3],
          [3, 4],
        ],
      ],
      [
        0,
        0,
        [ent(1, 1)],
        [
          [1, 1],
          [2, 2],
        ],
      ], // already there: nothing removed
      [0, 0, [ent(1, 3)], [[1, 3]]],
    ];
    for (const [index, logTerm, entries, want] of cases) {
      const r = raftWith(1, [1, 2, 3], [ent(1, 1), ent(2, 2)]);
      r.becomeFollower(2, 2);
      r.step(msg({ type: "MsgApp", from: 2, to: 1, term: 2, logTerm, index, entries }));
      expect(logOf(r)).toEqual(want);
    }
  });

  it("5.3 the leader backs up and brings every follower's log to its own (Figure 7)", () => {
    const leaderLog = ents(1, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    const term = 8;
    const followers: number[][] = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a) missing entries
      [1, 1, 1, 4], // (b)
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c) an extra uncommitted entry
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra entries of a later term
      [1, 1, 1, 4, 4, 4, 4], // (e) missing and extra
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f) a whole divergent history
    ];
    for (const followerTerms of followers) {
      const leadStorage = storageWith([1, 2, 3], leaderLog, term, leaderLog.length);
      const lead = newTestRaft(1, [1, 2, 3], { storage: leadStorage });
      const follower = raftWith(2, [1, 2, 3], ents(1, ...followerTerms), term - 1);
      // Node 3 is a black hole: the leader needs its vote, as the follower's log may be more up to date.
      const net = new RaftNet(lead, follower, undefined);
      net.send(hup(1));
      net.send(msg({ type: "MsgVoteResp", from: 3, to: 1, term: term + 1 }));
      net.send(propMsg(1, ""));
      expect(lead.role).toBe("leader");
      expect(logOf(follower)).toEqual(logOf(lead));
    }
  });

  it("5.3 a leader never overwrites or deletes entries in its own log", () => {
    const r = raftWith(1, [1, 2, 3], ents(1, 1, 1), 1);
    makeLeader(r);
    r.step(propMsg(1));
    const before = logOf(r);
    // Rejections, stale appends and conflicting appends of an old term do not touch the leader's log.
    r.step(
      msg({ type: "MsgAppResp", from: 2, to: 1, term: r.term, index: 3, reject: true, rejectHint: 1, logTerm: 1 }),
    );
    r.step(msg({ type: "MsgApp", from: 3, to: 1, term: r.term - 1, index: 1, logTerm: 1, entries: [ent(2, 1)] }));
    r.step(propMsg(1));
    const after = logOf(r);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBe(before.length + 1);
  });
});

describe("5.4 Safety", () => {
  it("5.4.1 a node grants its vote only to candidates whose log is at least as up to date as its own", () => {
    const cases: Array<[Entry[], number, number, boolean]> = [
      // same last term: the candidate's log must be as long
      [[ent(1, 1)], 1, 1, false],
      [[ent(1, 1)], 1, 2, false],
      [[ent(1, 1), ent(2, 1)], 1, 1, true],
      // candidate's last term higher: granted whatever the length
      [[ent(1, 1)], 2, 1, false],
      [[ent(1, 1)], 2, 2, false],
      [[ent(1, 1), ent(2, 1)], 2, 1, false],
      // candidate's last term lower: rejected whatever the length
      [[ent(1, 2)], 1, 1, true],
      [[ent(1, 2)], 1, 2, true],
      [[ent(1, 2), ent(2, 1)], 1, 1, true],
    ];
    for (const [log, logTerm, index, wantReject] of cases) {
      const r = raftWith(1, [1, 2], log);
      r.step(msg({ type: "MsgVote", from: 2, to: 1, term: 3, logTerm, index }));
      const [resp] = readMessages(r);
      expect([indexTerms(log), logTerm, index, resp?.type, resp?.reject]).toEqual([
        indexTerms(log),
        logTerm,
        index,
        "MsgVoteResp",
        wantReject,
      ]);
    }
  });

  it("5.4.1 a node missing a committed entry cannot be elected", () => {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3))));
    net.send(hup(1));
    net.cut(1, 3);
    net.cut(2, 3);
    net.send(propMsg(1, "committed without 3"));
    expect(net.node(1).log.committed).toBe(2);
    net.recover();
    // 3 has the shorter log: 1 and 2 refuse their votes.
    net.send(hup(3));
    expect(net.node(3).role).toBe("follower");
    expect(net.node(1).log.committed).toBe(2);
  });

  it("5.4.2 a leader commits entries of previous terms only by committing an entry of its own term", () => {
    const cases: Array<[number, number]> = [
      [1, 0],
      [2, 0],
      [3, 3],
    ];
    for (const [ackIndex, wantCommit] of cases) {
      const r = raftWith(1, [1, 2], [ent(1, 1), ent(2, 2)], 2);
      makeLeader(r); // term 3, no-op at index 3
      r.step(propMsg(1));
      r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: r.term, index: ackIndex }));
      expect([ackIndex, r.log.committed]).toEqual([ackIndex, wantCommit]);
    }
  });

  it("5.4.2 an old-term entry stored on a majority may still be overwritten (Figure 8)", () => {
    // (b) S5 was elected in term 3 and logged index 2 there; S1 logged index 2 in term 2 (with S2).
    const s = (log: Entry[]) => ({ storage: storageWith(ids(5), log, 3, 1) });
    const s1 = newTestRaft(1, ids(5), s([ent(1, 1), ent(2, 2)]));
    const s2 = newTestRaft(2, ids(5), s([ent(1, 1), ent(2, 2)]));
    const s3 = newTestRaft(3, ids(5), s([ent(1, 1)]));
    const s4 = newTestRaft(4, ids(5), s([ent(1, 1)]));
    const s5 = newTestRaft(5, ids(5), s([ent(1, 1), ent(2, 3)]));
    const net = new RaftNet(s1, s2, s3, s4, s5);
    // (c) S1 is elected in term 4 (S5 refuses: its log is more up to date) but its appends are lost...
    net.ignore("MsgApp");
    net.send(hup(1));
    expect([s1.role, s1.term]).toEqual(["leader", 4]);
    // ...except that index 2 (term 2) reaches S3: it is now on a majority, {S1, S2, S3}.
    net.recover();
    s3.step(msg({ type: "MsgApp", from: 1, to: 3, term: 4, index: 1, logTerm: 1, entries: [ent(2, 2)], commit: 1 }));
    s1.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: 4, index: 2 }));
    for (const m of readMessages(s3)) s1.step(m);
    expect(logOf(s3)).toEqual([
      [1, 1],
      [2, 2],
    ]);
    // Counting replicas does not commit it: it is not of S1's term.
    expect(s1.log.committed).toBe(1);
    // (d) S1 crashes; S5 can still win (votes of S2, S3, S4) and overwrite index 2 everywhere. Safe,
    // precisely because it never counted as committed.
    net.peers.set(1, undefined);
    readMessages(s1);
    net.send(hup(5));
    expect(s5.role).toBe("leader");
    for (const r of [s2, s3, s4]) expect(r.log.term(2)).toBe(3);
  });

  it("5.4.2 once an entry of the leader's term is on a majority, no other leader can be elected without it", () => {
    const s = (log: Entry[]) => ({ storage: storageWith(ids(5), log, 3, 1) });
    const nodes = [
      newTestRaft(1, ids(5), s([ent(1, 1), ent(2, 2)])),
      newTestRaft(2, ids(5), s([ent(1, 1), ent(2, 2)])),
      newTestRaft(3, ids(5), s([ent(1, 1)])),
      newTestRaft(4, ids(5), s([ent(1, 1)])),
      newTestRaft(5, ids(5), s([ent(1, 1), ent(2, 3)])),
    ];
    const net = new RaftNet(...nodes);
    net.cut(1, 4);
    net.cut(1, 5);
    net.send(hup(1)); // elected by S1, S2, S3; replicates its no-op (term 4) to S2, S3 and commits
    const s1 = net.node(1);
    expect(s1.role).toBe("leader");
    expect(s1.log.committed).toBe(3);
    net.peers.set(1, undefined);
    net.recover();
    net.send(hup(5));
    expect(net.node(5).role).not.toBe("leader");
    // The committed entries survive under whichever leader comes next.
    net.send(hup(2));
    expect(net.node(2).role).toBe("leader");
    for (const id of [2, 3, 4, 5]) expect(net.node(id).log.term(3)).toBe(4);
  });
});

describe("9.6 Pre-vote (thesis)", () => {
  const preVote = { preVote: true };

  it("9.6 an election with pre-vote bumps the term once, when the pre-vote is won", () => {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3), preVote)));
    net.send(hup(1));
    expect([net.node(1).role, net.node(1).term]).toEqual(["leader", 1]);
    const preVotes = net.log.filter((m) => m.type === "MsgPreVote");
    expect(preVotes.map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(net.log.filter((m) => m.type === "MsgVote").length).toBe(2);
  });

  it("9.6 answering a pre-vote changes neither the voter's term nor its vote", () => {
    const r = newTestRaft(1, [1, 2, 3], preVote);
    r.becomeFollower(2, 0);
    r.vote = 3;
    r.step(msg({ type: "MsgPreVote", from: 2, to: 1, term: 5, index: 10, logTerm: 2 }));
    const [resp] = readMessages(r);
    expect([resp?.type, resp?.term, resp?.reject]).toEqual(["MsgPreVoteResp", 5, false]);
    expect([r.term, r.vote, r.role]).toEqual([2, 3, "follower"]);
  });

  it("9.6 a pre-candidate with an out-of-date log is refused and keeps its term", () => {
    const nodes = ids(3).map((id) => newTestRaft(id, ids(3), preVote));
    const net = new RaftNet(...nodes);
    net.send(hup(1));
    net.cut(1, 3);
    net.cut(2, 3);
    net.send(propMsg(1));
    net.recover();
    const n3 = net.node(3);
    const before = n3.term;
    n3.step(hup(3));
    expect(n3.role).toBe("preCandidate");
    net.send(...readMessages(n3));
    expect([n3.role, n3.term]).toEqual(["follower", before]);
    expect([net.node(1).role, net.node(1).term]).toEqual(["leader", before]);
  });

  it("9.6 a partitioned node does not inflate its term, and does not disrupt the leader when it rejoins", () => {
    for (const withPreVote of [true, false]) {
      const nodes = ids(3).map((id) => newTestRaft(id, ids(3), { preVote: withPreVote }));
      const net = new RaftNet(...nodes);
      net.send(hup(1));
      net.isolate(3);
      const n3 = net.node(3);
      for (let i = 0; i < 5 * n3.electionTimeout; i++) {
        n3.tick();
        net.send(...readMessages(n3));
      }
      if (withPreVote) {
        expect(n3.term).toBe(1);
      } else {
        expect(n3.term).toBeGreaterThan(2); // it campaigned repeatedly
      }
      net.recover();
      // The leader's next heartbeat reaches 3; with pre-vote, 3 just follows.
      net.send(msg({ type: "MsgBeat", from: 1, to: 1 }));
      if (withPreVote) {
        expect([net.node(1).role, net.node(1).term, n3.lead]).toEqual(["leader", 1, 1]);
      } else {
        // Without pre-vote the rejoining node's higher term deposes the leader.
        expect(net.node(1).role).toBe("follower");
      }
    }
  });
});

describe("6.2 Check-quorum and leader lease (thesis)", () => {
  const cq = { checkQuorum: true };

  it("6.2 a leader that has not heard from a quorum for an election timeout steps down", () => {
    const r = newTestRaft(1, [1, 2, 3], cq);
    makeLeader(r);
    for (let i = 0; i < r.electionTimeout + 1; i++) r.tick();
    expect([r.role, r.lead]).toEqual(["follower", 0]);
  });

  it("6.2 a leader that hears from a quorum stays leader", () => {
    const r = newTestRaft(1, [1, 2, 3], cq);
    makeLeader(r);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < r.electionTimeout; i++) {
        r.tick();
        r.step(msg({ type: "MsgHeartbeatResp", from: 2, to: 1, term: r.term }));
      }
    }
    expect(r.role).toBe("leader");
  });

  it("6.2 a follower ignores vote requests while it believes a leader is alive (lease)", () => {
    const nodes = ids(3).map((id) => newTestRaft(id, ids(3), cq));
    const net = new RaftNet(...nodes);
    net.send(hup(1));
    const n3 = net.node(3);
    // 3 campaigns (no pre-vote): 2 heard from the leader recently and ignores it.
    n3.step(hup(3));
    const votes = readMessages(n3);
    net.send(...votes);
    expect(net.node(2).term).toBe(1);
    expect(net.node(1).role).toBe("leader");
    expect(n3.role).toBe("candidate");
    // Once the lease has expired (no leader contact for an election timeout), the vote is answered.
    const n2 = net.node(2);
    for (let i = 0; i < n2.electionTimeout; i++) n2.tick();
    readMessages(n2);
    n2.step(votes.find((m) => m.to === 2) as Message);
    expect(n2.term).toBe(2);
  });

  it("6.2 a follower that forgot its leader (etcd's ForgetLeader) answers at once", () => {
    const nodes = ids(3).map((id) => newTestRaft(id, ids(3), { checkQuorum: true, preVote: true }));
    const net = new RaftNet(...nodes);
    net.send(hup(1));
    net.isolate(1); // the leader is gone
    const [, n2, n3] = nodes as [Raft, Raft, Raft];
    // Within the lease, 3's pre-vote gets nothing from 2.
    n3.step(hup(3));
    net.send(...readMessages(n3));
    expect([n3.role, n2.lead]).toEqual(["preCandidate", 1]);
    // 2 learns that its leader is gone (a refused connection): it forgets it, keeps its term and
    // does not campaign; 3's next pre-vote and vote are granted without an election timeout.
    n2.step(msg({ type: "MsgForgetLeader" }));
    expect([n2.role, n2.lead, n2.term]).toEqual(["follower", 0, 1]);
    expect(readMessages(n2)).toEqual([]);
    n3.becomeFollower(n3.term, 0);
    n3.step(hup(3));
    net.send(...readMessages(n3));
    expect([n3.role, n3.term, n2.lead]).toEqual(["leader", 2, 3]);
  });

  it("6.2 forgetting the leader means nothing to a leader or a candidate", () => {
    const r = newTestRaft(1, [1, 2, 3], { checkQuorum: true, preVote: true });
    makeLeader(r);
    r.step(msg({ type: "MsgForgetLeader" }));
    expect([r.role, r.lead]).toEqual(["leader", 1]);
  });

  it("6.2 a stale leader learns of the new term from the answer to its append", () => {
    const r = newTestRaft(2, [1, 2, 3], cq);
    r.becomeFollower(3, 3);
    r.step(msg({ type: "MsgApp", from: 1, to: 2, term: 2, index: 0, logTerm: 0 }));
    const [resp] = readMessages(r);
    expect([resp?.type, resp?.to, resp?.term]).toEqual(["MsgAppResp", 1, 3]);
    const old = newTestRaft(1, [1, 2, 3], cq);
    old.becomeFollower(1, 0);
    makeLeader(old);
    old.step(resp as Message);
    expect([old.role, old.term]).toEqual(["follower", 3]);
  });

  it("6.2 a partitioned leader steps down while the majority elects a new one", () => {
    const nodes = ids(3).map((id) => newTestRaft(id, ids(3), { checkQuorum: true, preVote: true }));
    const net = new RaftNet(...nodes);
    net.send(hup(1));
    net.isolate(1);
    for (let i = 0; i < 3 * nodes[0]!.electionTimeout; i++) {
      for (const r of nodes) {
        r.tick();
        net.send(...readMessages(r));
      }
    }
    expect(net.node(1).role).toBe("follower");
    const leaders = nodes.filter((r) => r.role === "leader");
    expect(leaders.length).toBe(1);
    expect(leaders[0]?.id).not.toBe(1);
  });
});

describe("3.10 Leadership transfer (thesis)", () => {
  function cluster(options: TestRaftOptions = {}): RaftNet {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3), options)));
    net.send(hup(1));
    return net;
  }
  const transfer = (to: number, transferee: number) => msg({ type: "MsgTransferLeader", from: transferee, to });

  it("3.10 the leader hands over to an up-to-date follower with TimeoutNow; it wins the next term", () => {
    const net = cluster();
    net.send(transfer(1, 2));
    expect(net.log.some((m) => m.type === "MsgTimeoutNow" && m.to === 2)).toBe(true);
    expect([net.node(2).role, net.node(2).term]).toEqual(["leader", 2]);
    expect(net.node(1).role).toBe("follower");
  });

  it("3.10 a lagging transferee is brought up to date first", () => {
    const net = cluster();
    net.cut(1, 3);
    net.send(propMsg(1));
    net.recover();
    expect(net.node(3).log.lastIndex()).toBeLessThan(net.node(1).log.lastIndex());
    net.send(transfer(1, 3));
    expect(net.node(3).role).toBe("leader");
    expect(logOf(net.node(3)).slice(0, 2)).toEqual(logOf(net.node(1)).slice(0, 2));
  });

  it("3.10 the leader drops proposals while a transfer is in progress, and gives up after an election timeout", () => {
    const net = cluster();
    net.isolate(3);
    net.send(transfer(1, 3));
    const lead = net.node(1);
    expect(lead.leadTransferee).toBe(3);
    expect(() => lead.step(propMsg(1))).toThrow(ProposalDroppedError);
    for (let i = 0; i < lead.electionTimeout; i++) lead.tick();
    expect(lead.leadTransferee).toBe(0);
    lead.step(propMsg(1)); // accepted again
    expect(lead.role).toBe("leader");
  });

  it("3.10 transferring to itself or to a non-member does nothing", () => {
    const net = cluster();
    net.send(transfer(1, 1));
    net.send(transfer(1, 9));
    expect(net.node(1).leadTransferee).toBe(0);
    expect(net.node(1).role).toBe("leader");
  });

  it("3.10 a follower forwards the request to the leader", () => {
    const net = cluster();
    net.send(transfer(3, 3));
    expect(net.node(3).role).toBe("leader");
  });

  it("3.10 the transferee's election gets through leader leases (check-quorum)", () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.send(transfer(1, 2));
    expect([net.node(2).role, net.node(2).term]).toEqual(["leader", 2]);
  });
});

describe("6.4 Linearizable reads with read index (thesis)", () => {
  const ctx = (s: string) => new TextEncoder().encode(s);
  const readReq = (to: number, c: string) =>
    msg({ type: "MsgReadIndex", from: to, to, entries: [{ term: 0, index: 0, type: "normal", data: ctx(c) }] });

  it("6.4 the leader answers with its commit index once a quorum acknowledged a heartbeat round", () => {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3))));
    net.send(hup(1));
    net.send(propMsg(1));
    const lead = net.node(1);
    net.ignore("MsgHeartbeatResp");
    net.send(readReq(1, "r1"));
    expect(lead.readStates).toEqual([]); // no quorum confirmation yet
    net.recover();
    net.send(readReq(1, "r2"));
    expect(lead.readStates.map((rs) => [rs.index, new TextDecoder().decode(rs.requestCtx)])).toEqual([
      [2, "r1"],
      [2, "r2"],
    ]);
  });

  it("6.4 a follower forwards the request and gets the leader's commit index back", () => {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3))));
    net.send(hup(1));
    net.send(propMsg(1));
    net.send(readReq(2, "f"));
    expect(net.node(2).readStates.map((rs) => rs.index)).toEqual([net.node(1).log.committed]);
  });

  it("6.4 a new leader serves reads only after committing an entry of its term", () => {
    const r = raftWith(1, [1, 2, 3], [ent(1, 1)], 1);
    makeLeader(r);
    r.step(readReq(1, "early"));
    expect(types(readMessages(r))).not.toContain("MsgHeartbeat");
    // Its no-op commits: the deferred read starts its heartbeat round.
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: r.term, index: 2 }));
    const hbs = readMessages(r).filter((m) => m.type === "MsgHeartbeat");
    expect(hbs.length).toBe(2);
    r.step(
      msg({ type: "MsgHeartbeatResp", from: 3, to: 1, term: r.term, context: hbs[0]?.context ?? new Uint8Array() }),
    );
    expect(r.readStates.map((rs) => rs.index)).toEqual([2]);
  });

  it("6.4 a single-node leader answers at once", () => {
    const r = newTestRaft(1, [1]);
    r.step(hup(1));
    r.step(readReq(1, "solo"));
    expect(r.readStates.map((rs) => rs.index)).toEqual([1]);
  });

  it("6.4 a node without a leader refuses the request", () => {
    const r = newTestRaft(1, [1, 2, 3]);
    expect(() => r.step(readReq(1, "x"))).toThrow(ProposalDroppedError);
  });
});

describe("4.1 Cluster membership changes, one server at a time (thesis)", () => {
  const ccEntry = (type: "addNode" | "removeNode", nodeId: number): Entry => ({
    term: 0,
    index: 0,
    type: "confChange",
    data: encodeConfChange({ type, nodeId, context: new Uint8Array(0) }),
  });
  const propCC = (to: number, type: "addNode" | "removeNode", nodeId: number) =>
    msg({ type: "MsgProp", from: to, to, entries: [ccEntry(type, nodeId)] });

  it("4.1 a leader accepts one membership change at a time: the next waits until it is applied", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const r = newTestRaft(1, [1], { storage: s });
    r.step(hup(1));
    persistAndApply(r, s); // the no-op commits and is applied
    r.step(propCC(1, "addNode", 2));
    expect(() => r.step(propCC(1, "addNode", 3))).toThrow(ProposalDroppedError);
    persistAndApply(r, s); // the first conf change commits (single voter) and is applied
    r.applyConfChange({ type: "addNode", nodeId: 2, context: new Uint8Array(0) });
    r.step(propCC(1, "addNode", 3));
    expect(r.log.lastIndex()).toBe(3);
  });

  it("4.1 a new leader accepts no membership change before applying the log it was elected with", () => {
    // An earlier leader's conf change may hide, uncommitted, in the log.
    const s = storageWith([1], [{ ...ccEntry("addNode", 1), term: 1, index: 1 }], 1);
    const r = newTestRaft(1, [1], { storage: s });
    r.step(hup(1));
    expect(() => r.step(propCC(1, "addNode", 2))).toThrow(ProposalDroppedError);
    persistAndApply(r, s);
    r.step(propCC(1, "addNode", 2));
    expect(r.log.lastIndex()).toBe(3);
  });

  it("4.1 an added node counts in the quorum once the change is applied", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const r = newTestRaft(1, [1], { storage: s });
    r.step(hup(1));
    persistAndApply(r, s);
    r.applyConfChange({ type: "addNode", nodeId: 2, context: new Uint8Array(0) });
    expect(r.trk.voters).toEqual([1, 2]);
    // The leader starts probing the new member at once.
    expect(readMessages(r).filter((m) => m.type === "MsgApp" && m.to === 2).length).toBe(1);
    r.step(propMsg(1));
    // Two voters: the leader alone is no longer a majority.
    expect(r.log.committed).toBe(1);
    r.step(msg({ type: "MsgAppResp", from: 2, to: 1, term: r.term, index: 2 }));
    expect(r.log.committed).toBe(2);
  });

  it("4.1 removing a node lowers the quorum, which can commit waiting entries", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    const r = newTestRaft(1, [1, 2], { storage: s });
    makeLeader(r);
    commitNoop(r, s);
    r.step(propMsg(1));
    const before = r.log.committed;
    readMessages(r);
    r.applyConfChange({ type: "removeNode", nodeId: 2, context: new Uint8Array(0) });
    expect(r.log.committed).toBe(before + 1);
  });

  it("4.1 a removed leader steps down and hands leadership to an up-to-date member", () => {
    const net = new RaftNet(...ids(3).map((id) => newTestRaft(id, ids(3))));
    net.send(hup(1));
    net.send(propMsg(1));
    const lead = net.node(1);
    lead.applyConfChange({ type: "removeNode", nodeId: 1, context: new Uint8Array(0) });
    expect(lead.role).toBe("follower");
    const out = readMessages(lead);
    expect(out.some((m) => m.type === "MsgTimeoutNow")).toBe(true);
    for (const id of [2, 3])
      net.node(id).applyConfChange({ type: "removeNode", nodeId: 1, context: new Uint8Array(0) });
    net.send(...out);
    const leaders = [2, 3].filter((id) => net.node(id).role === "leader");
    expect(leaders.length).toBe(1);
  });

  it("4.1 a node outside the configuration, or with committed but unapplied changes, does not campaign", () => {
    const outsider = newTestRaft(4, [1, 2, 3]);
    for (let i = 0; i < 30; i++) outsider.tick();
    expect(outsider.role).toBe("follower");
    expect(readMessages(outsider)).toEqual([]);

    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeFollower(1, 2);
    r.step(
      msg({
        type: "MsgApp",
        from: 2,
        to: 1,
        term: 1,
        entries: [{ ...ccEntry("addNode", 4), term: 1, index: 1 }],
        commit: 1,
      }),
    );
    readMessages(r);
    r.step(hup(1));
    expect(r.role).toBe("follower");
    r.log.acceptApplying(1);
    r.log.appliedTo(1);
    r.step(hup(1));
    expect(r.role).toBe("candidate");
  });
});
