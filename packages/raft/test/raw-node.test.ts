import { describe, expect, it } from "vitest";
import { decodeConfChange } from "../src/conf-change-codec.js";
import {
  ProposalDroppedError,
  RaftError,
  ReadyNotAdvancedError,
  StepLocalMessageError,
  StepPeerNotFoundError,
} from "../src/errors.js";
import { MemoryStorage } from "../src/memory-storage.js";
import { RawNode } from "../src/raw-node.js";
import type { Ready } from "../src/ready.js";
import { isReadyEmpty } from "../src/ready.js";
import type { Config } from "../src/config.js";
import { makeMessage } from "../src/types.js";
import { Prng } from "./support/prng.js";

function node(storage: MemoryStorage, extra: Partial<Config> = {}): RawNode {
  return new RawNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, random: new Prng(1).source(), ...extra });
}

/** Handle a Ready the documented way against a MemoryStorage. */
function handle(rn: RawNode, s: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== undefined) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState !== undefined) s.setHardState(rd.hardState);
  for (const e of rd.committedEntries) if (e.type === "confChange") rn.applyConfChange(decodeConfChange(e.data));
  rn.advance(rd);
}

function drain(rn: RawNode, s: MemoryStorage): Ready[] {
  const out: Ready[] = [];
  while (rn.hasReady()) {
    const rd = rn.ready();
    out.push(rd);
    handle(rn, s, rd);
  }
  return out;
}

describe("RawNode", () => {
  it("bootstraps: the first Ready persists and applies the founding configuration", () => {
    const s = new MemoryStorage();
    const rn = node(s);
    rn.bootstrap([1, 2, 3]);
    expect(rn.hasReady()).toBe(true);
    const rd = rn.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(rd.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, "confChange"],
      [2, 1, "confChange"],
      [3, 1, "confChange"],
    ]);
    expect(rd.committedEntries).toHaveLength(3);
    expect(rd.mustSync).toBe(true);
    expect(rd.committedEntries.map((e) => decodeConfChange(e.data).nodeId)).toEqual([1, 2, 3]);
    handle(rn, s, rd);
    expect(rn.hasReady()).toBe(false);
    expect(rn.status().config.voters).toEqual([1, 2, 3]);
    expect(() => node(s).bootstrap([1])).toThrow(/nonempty/);
  });

  it("a single node elects itself and commits proposals through Readies", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    const readies = drain(rn, s);
    const soft = readies.find((r) => r.softState !== undefined)?.softState;
    expect(soft).toEqual({ lead: 1, role: "leader" });
    rn.propose(new TextEncoder().encode("hello"));
    const [rd] = drain(rn, s);
    expect(rd?.entries.map((e) => new TextDecoder().decode(e.data))).toEqual(["hello"]);
    expect(rd?.committedEntries.map((e) => new TextDecoder().decode(e.data))).toEqual(["hello"]);
    expect(rd?.softState).toBeUndefined(); // unchanged: not reported again
    expect(rn.status().applied).toBe(2);
  });

  it("appends a batch of proposals in order, in one Ready", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    drain(rn, s);
    const enc = new TextEncoder();
    rn.proposeBatch(["a", "b", "c"].map((x) => enc.encode(x)));
    const readies = drain(rn, s);
    expect(readies).toHaveLength(1);
    const text = (rd: Ready | undefined, k: "entries" | "committedEntries"): string[] =>
      (rd?.[k] ?? []).map((e) => new TextDecoder().decode(e.data));
    expect(text(readies[0], "entries")).toEqual(["a", "b", "c"]);
    expect(text(readies[0], "committedEntries")).toEqual(["a", "b", "c"]);
    expect(readies[0]!.entries.map((e) => e.index)).toEqual([2, 3, 4]); // 1 is the new leader's empty entry
    expect(() => node(new MemoryStorage({ confState: { voters: [1, 2] } })).proposeBatch([enc.encode("x")])).toThrow(
      ProposalDroppedError,
    );
  });

  it("refuses proposals without a leader with a typed error", () => {
    const rn = node(new MemoryStorage({ confState: { voters: [1, 2, 3] } }));
    let caught: unknown;
    try {
      rn.propose(new Uint8Array([1]));
    } catch (err: unknown) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProposalDroppedError);
    expect(caught).toBeInstanceOf(RaftError);
    expect((caught as ProposalDroppedError).code).toBe("ERR_RAFT_PROPOSAL_DROPPED");
    expect((caught as ProposalDroppedError).reason).toBe("no-leader");
    expect(() => rn.readIndex(new Uint8Array([1]))).toThrow(ProposalDroppedError);
  });

  it("hands out one Ready at a time", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    const rd = rn.ready();
    expect(rn.hasReady()).toBe(false);
    expect(() => rn.ready()).toThrow(ReadyNotAdvancedError);
    handle(rn, s, rd);
    drain(rn, s);
    expect(rn.hasReady()).toBe(false);
  });

  it("refuses local message types and responses from strangers from the network", () => {
    const rn = node(new MemoryStorage({ confState: { voters: [1, 2, 3] } }));
    expect(() => rn.step(makeMessage({ type: "MsgHup", from: 2, to: 1 }))).toThrow(StepLocalMessageError);
    expect(() => rn.step(makeMessage({ type: "MsgAppResp", from: 9, to: 1, term: 1 }))).toThrow(StepPeerNotFoundError);
  });

  it("needs no sync when only the commit index moved", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    const rn = node(s, { id: 2 });
    rn.step(
      makeMessage({
        type: "MsgApp",
        from: 1,
        to: 2,
        term: 1,
        entries: [{ index: 1, term: 1, type: "normal", data: new Uint8Array(0) }],
      }),
    );
    const [first] = drain(rn, s);
    expect(first?.mustSync).toBe(true);
    expect(first?.messages.map((m) => [m.type, m.index])).toEqual([["MsgAppResp", 1]]);
    rn.step(makeMessage({ type: "MsgHeartbeat", from: 1, to: 2, term: 1, commit: 1 }));
    const [second] = drain(rn, s);
    expect(second?.hardState?.commit).toBe(1);
    expect(second?.mustSync).toBe(false);
    expect(second?.committedEntries).toHaveLength(1);
  });

  it("restarts from storage: term, vote and commit survive; unapplied committed entries come again", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    drain(rn, s);
    rn.propose(new TextEncoder().encode("x"));
    const rd = rn.ready();
    s.append(rd.entries);
    if (rd.hardState !== undefined) s.setHardState(rd.hardState);
    // Crash before applying: a new node from the same storage.
    const again = node(s);
    const st = again.basicStatus();
    expect(st.hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    expect(st.softState.role).toBe("follower");
    const [first] = drain(again, s);
    expect(first?.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    // With the applied index given, only what follows is handed out.
    const third = node(s, { applied: 1 });
    const [r3] = drain(third, s);
    expect(r3?.committedEntries.map((e) => e.index)).toEqual([2]);
  });

  it("delivers read states through Ready", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    drain(rn, s);
    rn.readIndex(new TextEncoder().encode("req-1"));
    const [rd] = drain(rn, s);
    expect(rd?.readStates.map((r) => [r.index, new TextDecoder().decode(r.requestCtx)])).toEqual([[1, "req-1"]]);
  });

  it("applies membership changes proposed through proposeConfChange", () => {
    const s = new MemoryStorage({ confState: { voters: [1] } });
    const rn = node(s);
    rn.campaign();
    drain(rn, s);
    rn.proposeConfChange({ type: "addNode", nodeId: 2, context: new TextEncoder().encode("addr") });
    const [rd] = drain(rn, s);
    const cc = rd?.committedEntries.find((e) => e.type === "confChange");
    expect(cc && decodeConfChange(cc.data)).toEqual({
      type: "addNode",
      nodeId: 2,
      context: new TextEncoder().encode("addr"),
    });
    expect(rn.status().config.voters).toEqual([1, 2]);
    const progress = rn.status().progress;
    expect(progress?.get(2)?.state).toBe("probe");
  });

  it("reports unreachable peers and snapshot outcomes to the leader's progress", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    const rn = node(s, { preVote: false });
    rn.campaign();
    drain(rn, s);
    rn.step(makeMessage({ type: "MsgVoteResp", from: 2, to: 1, term: rn.basicStatus().hardState.term }));
    drain(rn, s);
    expect(rn.basicStatus().softState.role).toBe("leader");
    rn.step(makeMessage({ type: "MsgAppResp", from: 2, to: 1, term: rn.basicStatus().hardState.term, index: 1 }));
    expect(rn.status().progress?.get(2)?.state).toBe("replicate");
    rn.reportUnreachable(2);
    expect(rn.status().progress?.get(2)?.state).toBe("probe");
    rn.reportSnapshot(2, "failure"); // not in the snapshot state: ignored
    expect(rn.status().progress?.get(2)?.state).toBe("probe");
  });

  it("transfers leadership on request", () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2] } });
    const rn = node(s, { preVote: false });
    rn.campaign();
    const term = rn.basicStatus().hardState.term;
    rn.step(makeMessage({ type: "MsgVoteResp", from: 2, to: 1, term }));
    drain(rn, s);
    rn.step(makeMessage({ type: "MsgAppResp", from: 2, to: 1, term, index: 1 }));
    drain(rn, s);
    rn.transferLeader(2);
    const [rd] = drain(rn, s);
    expect(rd?.messages.map((m) => [m.type, m.to])).toContainEqual(["MsgTimeoutNow", 2]);
    expect(rn.basicStatus().leadTransferee).toBe(2);
  });

  it("isReadyEmpty tells an empty Ready", () => {
    expect(isReadyEmpty({ readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false })).toBe(
      true,
    );
  });
});
