import { describe, expect, it } from "vitest";
import { ErrorCode, InternalRaftRequest, silentLogger } from "@shoal/shared";
import type { ConfChange } from "@shoal/raft";
import { ProposalQueue } from "../../../src/state/raft/proposal-queue.js";
import { NotLeaderError } from "../../../src/state/raft/not-leader-error.js";
import { seededRandomBytes } from "../../../src/random-bytes.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function queue(options: { refuse?: boolean } = {}) {
  const batches: number[][] = [];
  const changes: ConfChange[] = [];
  const q = new ProposalQueue({
    logger: silentLogger(),
    random: seededRandomBytes(3),
    submit: (batch) => {
      if (options.refuse) throw new Error("proposal dropped: not the leader");
      batches.push(batch.map((data) => InternalRaftRequest.decode(data).id));
    },
    submitConfChange: (cc) => {
      if (options.refuse) throw new Error("proposal dropped: not the leader");
      changes.push(cc);
    },
    notLeader: () => new NotLeaderError("leader:1"),
  });
  return { q, batches, changes };
}

const add = (nodeId: number): ConfChange => ({ type: "addNode", nodeId, context: new Uint8Array() });

describe("ProposalQueue", () => {
  it("hands what is proposed in one turn to Raft as one batch, and resolves each proposal when applied", async () => {
    const { q, batches } = queue();
    const a = q.propose([]);
    const b = q.propose([]);
    await turn();
    const c = q.propose([]);
    await turn();
    expect(batches.map((ids) => ids.length)).toEqual([2, 1]);
    const [[idA, idB], [idC]] = batches as [[number, number], [number]];
    expect(new Set([idA, idB, idC]).size).toBe(3);
    q.applied(idB, 11);
    q.applied(idA, 10);
    q.applied(idC, 12);
    q.applied(12345, 13); // proposed elsewhere
    expect(await Promise.all([a, b, c])).toEqual([10, 11, 12]);
    expect(q.size).toBe(0);
  });

  it("rejects a batch Raft drops as not the leader", async () => {
    const { q } = queue({ refuse: true });
    const a = q.propose([]);
    const b = q.propose([]);
    await expect(a).rejects.toBeInstanceOf(NotLeaderError);
    await expect(b).rejects.toBeInstanceOf(NotLeaderError);
    expect(q.size).toBe(0);
  });

  it("on leadership loss rejects every waiter, and drops what was not handed to Raft yet", async () => {
    const { q, batches } = queue();
    const handed = q.propose([]);
    await turn();
    const waiting = q.propose([]);
    const change = q.changeMembership(add(4));
    q.rejectAll(new Error("lost leadership"));
    await expect(handed).rejects.toThrow("lost leadership");
    await expect(waiting).rejects.toThrow("lost leadership");
    await expect(change).rejects.toThrow("lost leadership");
    await turn();
    expect(batches).toHaveLength(1);
    // Still open: the next leadership proposes again.
    const next = q.propose([]);
    await turn();
    q.applied(batches[1]![0]!, 20);
    expect(await next).toBe(20);
  });

  it("cancels a proposal whose signal aborts", async () => {
    const { q, batches } = queue();
    const abort = new AbortController();
    const p = q.propose([], abort.signal);
    await turn();
    abort.abort();
    await expect(p).rejects.toMatchObject({ code: ErrorCode.Cancelled });
    q.applied(batches[0]![0]!, 5);
    expect(q.size).toBe(0);
  });

  it("runs one membership change at a time, resolved when the matching change is applied", async () => {
    const { q, changes } = queue();
    const first = q.changeMembership(add(4));
    await expect(q.changeMembership(add(5))).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
    expect(changes).toEqual([add(4)]);
    q.confChangeApplied(add(5), 7);
    q.confChangeApplied({ ...add(4), type: "removeNode" }, 8);
    q.confChangeApplied(add(4), 9);
    expect(await first).toBe(9);
    await expect(queue({ refuse: true }).q.changeMembership(add(4))).rejects.toBeInstanceOf(NotLeaderError);
  });

  it("once closed, rejects what waits and every later proposal", async () => {
    const { q, batches } = queue();
    const p = q.propose([]);
    q.close(new Error("stopping"));
    await expect(p).rejects.toThrow("stopping");
    await expect(q.propose([])).rejects.toThrow("stopping");
    await expect(q.changeMembership(add(4))).rejects.toThrow("stopping");
    await turn();
    expect(batches).toEqual([]);
  });
});
