// The Raft driver over in-memory twins (disk, network, clock): fast and deterministic, no file, no
// socket, no timer.
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode, RaftMember, type ShoalError } from "@shoal/shared";
import type { MemoryRaftDisk } from "@shoal/raft";
import { makeMessage } from "@shoal/raft";
import { NotLeaderError } from "../../../src/state/raft/not-leader-error.js";
import { ELECTION_TICK, MemoryCluster, TICK_MS, member } from "./support/memory-cluster.js";

let cluster: MemoryCluster;

afterEach(async () => {
  await cluster.stopAll();
});

async function threeNodes(trace?: { id: number; trace: string[] }): Promise<MemoryCluster> {
  cluster = new MemoryCluster();
  await cluster.found([1, 2, 3], trace);
  return cluster;
}

async function write(c: MemoryCluster, n = 1): Promise<number[]> {
  const leader = c.leader()!;
  return c.drive(Promise.all(Array.from({ length: n }, () => leader.raft.propose([]))));
}

describe("RaftNode", () => {
  /** The Readies of a traced node, each as its steps from ready() to advance(). */
  function readiesOf(trace: readonly string[]): string[][] {
    const readies: string[][] = [];
    let current: string[] | undefined;
    for (const step of trace) {
      const kind = step.split(" ")[0]!;
      if (kind === "ready") current = [];
      if (current) current.push(step);
      // Outside a Ready: the founding snapshot, written before the RawNode starts; snapshots.
      else expect(kind === "saveSnapshot" || (kind === "persist" && readies.length === 0), step).toBe(true);
      if (kind === "advance") {
        readies.push(current!);
        current = undefined;
      }
    }
    expect(current).toBeUndefined();
    return readies;
  }

  const kinds = (ready: readonly string[]): string => ready.map((s) => s.split(" ")[0]).join(" ");
  const numbersOf = (step: string): number[] =>
    step
      .split(" ")
      .slice(1)
      .join(" ")
      .split(/[ ,:]/)
      .map(Number)
      .filter((n) => n > 0);

  it("handles each Ready in one order: persist, then send, then apply, then advance", async () => {
    const trace: string[] = [];
    const c = await threeNodes({ id: 2, trace });
    expect(c.leader()!.id).not.toBe(2);
    await write(c, 5);
    await write(c, 3);

    // A follower: every Ready, from ready() to advance(), is persist, send, the applies.
    const readies = readiesOf(trace);
    expect(readies.length).toBeGreaterThan(5);
    for (const ready of readies) expect(kinds(ready)).toMatch(/^ready persist send (apply )*advance$/);
    // What is sent or applied was persisted before: its answers say its entries are durable.
    const persisted = new Set<number>();
    for (const step of trace) {
      const kind = step.split(" ")[0];
      if (kind === "persist") for (const n of numbersOf(step)) persisted.add(n);
      if (kind === "apply") expect(persisted.has(numbersOf(step)[0]!)).toBe(true);
      if (kind === "send") for (const n of numbersOf(step)) expect(persisted.has(n)).toBe(true);
    }
  });

  it("sends a leader's appends while it persists them, and applies only what it persisted", async () => {
    const trace: string[] = [];
    const c = await threeNodes({ id: 1, trace });
    expect(c.leader()!.id).toBe(1);
    await write(c, 5);
    await write(c, 3);

    const readies = readiesOf(trace);
    expect(readies.length).toBeGreaterThan(10);
    for (const ready of readies) expect(kinds(ready)).toMatch(/^ready (send persist|persist send) (apply )*advance$/);
    const persisted = new Set<number>();
    let early = 0;
    for (const ready of readies) {
      const inThisReady = new Set(ready.filter((s) => s.startsWith("persist")).flatMap(numbersOf));
      const sentEarly = kinds(ready).startsWith("ready send");
      for (const step of ready) {
        const kind = step.split(" ")[0];
        if (kind === "persist") for (const n of numbersOf(step)) persisted.add(n);
        if (kind === "apply") expect(persisted.has(numbersOf(step)[0]!)).toBe(true);
        if (kind !== "send") continue;
        // Sent before its own write: only appends of this very Ready, never a vote.
        if (sentEarly) expect(step).not.toMatch(/Vote/);
        for (const n of numbersOf(step)) expect(persisted.has(n) || (sentEarly && inThisReady.has(n))).toBe(true);
        if (sentEarly && numbersOf(step).some((n) => inThisReady.has(n))) early++;
      }
    }
    // The followers got some entries while the leader was still writing them.
    expect(early).toBeGreaterThan(0);
    expect(trace.filter((s) => /^send .*MsgApp:\d/.test(s)).length).toBeGreaterThan(0);
  });

  it("hands leadership over to another member (transferLeadership)", async () => {
    const c = await threeNodes();
    const old = c.leader()!;
    await write(c, 2);
    expect(await c.drive(old.raft.transferLeadership())).toBe(true);
    const next = c.leader()!;
    expect(next.id).not.toBe(old.id);
    await c.until(() => next.leadership.at(-1) === true);
    expect(old.leadership).toEqual([true, false]);
    expect(old.raft.leaderId).toBe(next.id);
    expect(old.raft.leaderAddr()).toBe(member(next.id).addr);
    await expect(old.raft.propose([])).rejects.toBeInstanceOf(NotLeaderError);
    const [index] = await write(c);
    await c.until(() => [...c.nodes.values()].every((n) => n.sm.applied.some((a) => a.index === index)));
  });

  it("transferLeadership gives up after its timeout when no member takes over", async () => {
    const c = await threeNodes();
    const old = c.leader()!;
    for (const f of c.followers()) c.network.isolate(f.id);
    const transfer = old.raft.transferLeadership(200);
    expect(await c.drive(transfer)).toBe(false);
  });

  it("forces a new cluster of one member from its disk, keeping every entry", async () => {
    const c = await threeNodes();
    await write(c, 4);
    const survivor = c.nodes.get(3)!;
    await c.until(() => survivor.sm.applied.length === 4);
    const written = survivor.sm.ids();
    const disk = (survivor.disk as MemoryRaftDisk).reopen();
    await c.stopAll();

    const forced = await c.start(3, { forceNewCluster: true, disk });
    await c.until(() => forced.leadership.includes(true));
    expect(forced.raft.memberList()).toEqual([member(3)]);
    expect(forced.sm.ids()).toEqual(written);
    await write(c, 1);
    expect(forced.sm.applied).toHaveLength(5);
    // An old member is no longer heard, whatever its term.
    const term = forced.raft.status().term;
    forced.raft.step(makeMessage({ type: "MsgVote", from: 1, to: 3, term: term + 5, index: 99, logTerm: 99 }));
    await c.settle();
    expect(forced.raft.isLeader).toBe(true);
    expect(forced.raft.status().term).toBe(term);
  });

  it("rejects the proposals in flight when it loses leadership, and later ones as not the leader", async () => {
    const c = await threeNodes();
    const old = c.leader()!;
    c.network.isolate(old.id);
    const inFlight = old.raft.propose([]);
    inFlight.catch(() => undefined);
    // Check-quorum: a leader that hears no quorum for an election timeout steps down.
    await c.until(() => !old.raft.isLeader, 3 * ELECTION_TICK);
    const err = (await inFlight.then(
      () => undefined,
      (e: unknown) => e,
    )) as ShoalError;
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toMatch(/lost leadership before the write was committed; it may still be applied/);
    expect(old.leadership).toEqual([true, false]);
    await expect(old.raft.propose([])).rejects.toBeInstanceOf(NotLeaderError);
    // The other two elect a leader among them and go on.
    await c.until(() => c.leader() !== undefined);
    await write(c);
  });

  it("serves linearizable reads through read index, on the leader and on a follower", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    const follower = c.followers()[0]!;
    const [index] = await write(c, 3);
    await c.drive(leader.raft.linearizableRead());
    await c.drive(follower.raft.linearizableRead());
    expect(follower.raft.status().applied).toBeGreaterThanOrEqual(index!);
    expect(follower.sm.applied.map((a) => a.index)).toContain(index);
  });

  it("fails a read that no quorum confirms in time", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    c.network.isolate(leader.id);
    const read = leader.raft.linearizableRead();
    read.catch(() => undefined);
    const err = (await c.drive(
      read.then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000 / TICK_MS + 5,
    )) as ShoalError;
    expect(err.code).toBe(ErrorCode.Unavailable);
    expect(err.message).toMatch(/no quorum confirmed the leader in time/);
  });

  it("reports healthy members reachable right after each check-quorum, when recentActive is cleared", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    let recentActiveCleared = 0;
    for (let i = 0; i < 3 * ELECTION_TICK; i++) {
      // The moment just after a tick, before any answer to its heartbeats has come in.
      c.clock.advance(TICK_MS);
      for (const [id, p] of leader.raft.status().progress) {
        if (id === leader.id) continue;
        if (!p.recentActive) recentActiveCleared++;
        expect(p.reachable, `member ${id} after tick ${i}`).toBe(true);
      }
      await c.settle();
    }
    // The old rule (reachable while recentActive) would have shown healthy members unreachable.
    expect(recentActiveCleared).toBeGreaterThan(0);
  });

  it("reports a member unreachable once it was not heard for an election timeout", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    const lost = c.followers()[0]!;
    c.network.isolate(lost.id);
    await c.tick(ELECTION_TICK - 1);
    expect(leader.raft.status().progress.get(lost.id)?.reachable).toBe(true);
    await c.tick(2);
    expect(leader.raft.status().progress.get(lost.id)?.reachable).toBe(false);
    expect(leader.raft.status().progress.get(leader.id)?.reachable).toBe(true);
    c.network.heal();
    await c.tick(2);
    expect(leader.raft.status().progress.get(lost.id)?.reachable).toBe(true);
  });

  it("hears a joiner's admitters before its own admission, then refuses non-members", async () => {
    cluster = new MemoryCluster();
    const c = cluster;
    await c.found([1, 2]);
    const joiner = c.nodes.get(2)!;
    expect(joiner.raft.admitting).toBe(false);
    expect(joiner.raft.memberList().map((m) => m.raftId)).toEqual([1, 2]);
    const term = joiner.raft.status().term;
    joiner.raft.step(makeMessage({ type: "MsgHeartbeat", from: 9, to: 2, term: term + 3 }));
    await c.settle();
    expect(joiner.raft.status().term).toBe(term);
  });

  it("removes a member; the others go on as a group of two", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    const gone = c.followers()[0]!;
    await c.drive(leader.raft.changeMembership({ type: "removeNode", nodeId: gone.id, context: new Uint8Array() }));
    expect(leader.raft.memberList().map((m) => m.raftId)).not.toContain(gone.id);
    expect([...leader.raft.status().progress.keys()]).not.toContain(gone.id);
    await c.stop(gone.id);
    await write(c);
  });

  it("snapshots every snapshotInterval entries, and a new member catches up from it", async () => {
    cluster = new MemoryCluster();
    const c = cluster;
    await c.start(1, { bootstrap: true, settings: { snapshotInterval: 5 } });
    await c.until(() => c.nodes.get(1)!.leadership.includes(true));
    await write(c, 3);
    await write(c, 3);
    await c.settle();
    const disk = c.nodes.get(1)!.disk;
    expect(disk.writes.some((w) => w.kind === "saveSnapshot")).toBe(true);
    const node2 = await c.start(2, { knownMembers: [member(1)] });
    const context = RaftMember.encode(member(2)).finish();
    await c.drive(c.nodes.get(1)!.raft.changeMembership({ type: "addNode", nodeId: 2, context }));
    await c.until(() => node2.sm.applied.length === 6);
    expect(node2.disk.writes.some((w) => w.kind === "persist" && w.snapshot !== undefined)).toBe(true);
  });

  it("stops idempotently, rejecting what waits and refusing new work", async () => {
    const c = await threeNodes();
    const leader = c.leader()!;
    const pending = leader.raft.waitApplied(10_000);
    await Promise.all([leader.raft.stop(), leader.raft.stop()]);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(() => leader.raft.propose([])).toThrow(/stopping/);
    expect(leader.disk.isClosed).toBe(true);
  });
});
