// The leader's manager-nodes component with a fake Raft group and a manual clock: it makes the
// managers' nodes (the migration of a cluster from before), follows reachability by polling, and
// carries out demotions: a follower is removed once quorum allows, a leader hands leadership over.
import { describe, expect, it } from "vitest";
import { NodeRole, Reachability, type RaftMemberStatus } from "@shoal/shared";
import { ManagerNodes, type ManagerNodesRaft } from "../../src/nodes/manager-nodes.js";
import { settle, setup, until } from "../orchestrator/helpers.js";

function member(nodeId: string, raftId: number, reachability = Reachability.REACHABLE): RaftMemberStatus {
  return {
    member: { raftId, nodeId, addr: `10.0.0.${raftId}:4242` },
    leader: raftId === 1,
    reachability,
    matchIndex: 0,
  };
}

class FakeRaft implements ManagerNodesRaft {
  readonly raftId = 1;
  members = [member("m1", 1), member("m2", 2), member("m3", 3)];
  removed: number[] = [];
  transfers = 0;
  statuses(): RaftMemberStatus[] {
    return this.members.map((m) => ({ ...m }));
  }
  removeMember(raftId: number): Promise<void> {
    this.removed.push(raftId);
    this.members = this.members.filter((m) => m.member!.raftId !== raftId);
    return Promise.resolve();
  }
  transferLeadership(): Promise<boolean> {
    this.transfers++;
    return Promise.resolve(true);
  }
}

async function start() {
  const { store, clock, logger } = setup();
  const raft = new FakeRaft();
  const component = new ManagerNodes({ store, raft, clock, logger, pollMs: 1_000 });
  void component.run();
  const node = (id: string) => store.view((tx) => tx.nodes.get(id));
  const tick = async (ms: number) => {
    await settle();
    clock.advance(ms);
    await settle();
  };
  const demote = (id: string) =>
    store.update((tx) => {
      const n = tx.nodes.get(id)!;
      tx.nodes.update({ ...n, spec: { ...n.spec!, desiredRole: NodeRole.WORKER } });
    });
  /** Advances the clock in small steps (the loop's debounce) until `check` holds. */
  const soon = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !check(); i++) await tick(50);
    await until(check, what, 1);
  };
  await soon(() => node("m3") !== undefined, "the managers' nodes");
  return { store, clock, raft, component, node, tick, demote, soon };
}

describe("ManagerNodes", () => {
  it("makes a node for each manager, and follows reachability by polling", async () => {
    const h = await start();
    expect(["m1", "m2", "m3"].map((id) => h.node(id)?.role)).toEqual([
      NodeRole.MANAGER,
      NodeRole.MANAGER,
      NodeRole.MANAGER,
    ]);
    expect(h.node("m1")?.managerStatus?.leader).toBe(true);
    h.raft.members[2] = member("m3", 3, Reachability.UNREACHABLE);
    await h.tick(1_000);
    await h.soon(() => h.node("m3")?.managerStatus?.reachability === Reachability.UNREACHABLE, "m3 unreachable");
    await h.component.stop();
  });

  it("removes a demoted follower from the group, and its node becomes a worker", async () => {
    const h = await start();
    await h.demote("m2");
    await h.soon(() => h.raft.removed.includes(2), "m2 removed");
    await h.tick(1_000);
    await h.soon(() => h.node("m2")?.role === NodeRole.WORKER, "m2 a worker");
    expect(h.node("m2")?.managerStatus).toBeUndefined();
    expect(h.raft.transfers).toBe(0);
    await h.component.stop();
  });

  it("waits while removing would lose quorum, and hands leadership over when the leader is demoted", async () => {
    const h = await start();
    h.raft.members[2] = member("m3", 3, Reachability.UNREACHABLE);
    await h.demote("m2");
    await h.tick(1_000);
    await h.tick(1_000);
    expect(h.raft.removed).toEqual([]);
    h.raft.members[2] = member("m3", 3);
    await h.tick(1_000);
    await h.soon(() => h.raft.removed.includes(2), "m2 removed once m3 is back");
    await h.demote("m1");
    await h.soon(() => h.raft.transfers > 0, "leadership handed over");
    expect(h.raft.removed).toEqual([2]);
    await h.component.stop();
  });
});
