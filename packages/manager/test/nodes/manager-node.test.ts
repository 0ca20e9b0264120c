// Managers are nodes: the leader's plan for their nodes, the manager-only predicate, and the
// quorum check of a demotion.
import { describe, expect, it } from "vitest";
import { Node, NodeRole, NodeState, Reachability, type RaftMemberStatus } from "@shoal/shared";
import {
  managerOnly,
  newManagerNode,
  pendingDemotions,
  planManagerNodes,
  quorumRefusal,
} from "../../src/nodes/manager-node.js";

function member(nodeId: string, raftId: number, reachability: Reachability, leader = false): RaftMemberStatus {
  return { member: { raftId, nodeId, addr: `10.0.0.${raftId}:4242` }, leader, reachability, matchIndex: 0 };
}

const ENGINE = { engineVersion: "27.0", labels: {}, plugins: [] };

describe("planManagerNodes", () => {
  it("makes a node for a member that has none: role manager, its ManagerStatus, READY as a manager alone", () => {
    const plan = planManagerNodes([], [member("m1", 1, Reachability.REACHABLE, true)]);
    expect(plan.update).toEqual([]);
    expect(plan.create).toHaveLength(1);
    const node = plan.create[0]!;
    expect(node.id).toBe("m1");
    expect(node.role).toBe(NodeRole.MANAGER);
    expect(node.spec?.desiredRole).toBe(NodeRole.MANAGER);
    expect(node.managerStatus).toEqual({
      raftId: 1,
      addr: "10.0.0.1:4242",
      leader: true,
      reachability: Reachability.REACHABLE,
    });
    expect(node.status?.state).toBe(NodeState.READY);
    expect(node.description?.hostname).toBe("10.0.0.1");
    expect(managerOnly(node)).toBe(true);
  });

  it("gives an agent's node its ManagerStatus and leaves its status to the agent's session", () => {
    const agentNode = Node.fromPartial({
      id: "m2",
      role: NodeRole.MANAGER,
      spec: { desiredRole: NodeRole.MANAGER },
      description: { hostname: "host2", engine: ENGINE },
      status: { state: NodeState.DOWN, message: "heartbeat failure" },
    });
    const plan = planManagerNodes([agentNode], [member("m2", 2, Reachability.REACHABLE)]);
    expect(plan.create).toEqual([]);
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0]!.managerStatus?.reachability).toBe(Reachability.REACHABLE);
    expect(plan.update[0]!.status?.state).toBe(NodeState.DOWN);
    expect(managerOnly(plan.update[0]!)).toBe(false);
  });

  it("names a node NodeCA made at join, with no agent yet, by its host", () => {
    const joined = Node.fromPartial({ id: "m5", role: NodeRole.MANAGER, spec: { desiredRole: NodeRole.MANAGER } });
    const [node] = planManagerNodes([joined], [member("m5", 5, Reachability.REACHABLE)]).update;
    expect(node?.description?.hostname).toBe("10.0.0.5");
    expect(node?.status?.state).toBe(NodeState.READY);
  });

  it("writes nothing when the nodes already show the group", () => {
    const first = planManagerNodes([], [member("m1", 1, Reachability.REACHABLE, true)]).create;
    expect(planManagerNodes(first, [member("m1", 1, Reachability.REACHABLE, true)])).toEqual({
      create: [],
      update: [],
    });
  });

  it("follows leadership and reachability; a manager alone that is unreachable is DOWN", () => {
    const nodes = planManagerNodes(
      [],
      [member("m1", 1, Reachability.REACHABLE, true), member("m2", 2, Reachability.REACHABLE)],
    ).create;
    const plan = planManagerNodes(nodes, [
      member("m1", 1, Reachability.UNREACHABLE),
      member("m2", 2, Reachability.REACHABLE, true),
    ]);
    const byId = new Map(plan.update.map((n) => [n.id, n]));
    expect(byId.get("m1")!.managerStatus).toMatchObject({ leader: false, reachability: Reachability.UNREACHABLE });
    expect(byId.get("m1")!.status?.state).toBe(NodeState.DOWN);
    expect(byId.get("m2")!.managerStatus?.leader).toBe(true);
  });

  it("makes a node that left the group a worker, and leaves a manager not yet a member alone", () => {
    const left = Node.fromPartial({
      ...newManagerNode({ raftId: 3, nodeId: "m3", addr: "10.0.0.3:4242" }),
      spec: { desiredRole: NodeRole.WORKER },
      description: { hostname: "host3", engine: ENGINE },
      status: { state: NodeState.READY },
    });
    const joining = Node.fromPartial({ id: "m4", role: NodeRole.MANAGER, spec: { desiredRole: NodeRole.MANAGER } });
    const plan = planManagerNodes([left, joining], [member("m1", 1, Reachability.REACHABLE, true)]);
    const byId = new Map(plan.update.map((n) => [n.id, n]));
    expect(byId.get("m3")!.role).toBe(NodeRole.WORKER);
    expect(byId.get("m3")!.managerStatus).toBeUndefined();
    expect(byId.get("m3")!.status?.state).toBe(NodeState.READY); // its agent keeps it
    expect(byId.has("m4")).toBe(false);
  });
});

describe("pendingDemotions", () => {
  it("lists the members whose node should be a worker", () => {
    const nodes = [
      Node.fromPartial({ id: "m1", role: NodeRole.MANAGER, spec: { desiredRole: NodeRole.MANAGER } }),
      Node.fromPartial({ id: "m2", role: NodeRole.MANAGER, spec: { desiredRole: NodeRole.WORKER } }),
    ];
    const members = [member("m1", 1, Reachability.REACHABLE), member("m2", 2, Reachability.REACHABLE)];
    expect(pendingDemotions(nodes, members).map((m) => m.member?.nodeId)).toEqual(["m2"]);
  });
});

describe("quorumRefusal", () => {
  const r = Reachability.REACHABLE;
  const u = Reachability.UNREACHABLE;
  it("refuses to remove the last manager", () => {
    expect(quorumRefusal([member("m1", 1, r)], [1])).toMatch(/last manager/);
  });

  it("allows removing one of three reachable managers, and one of two", () => {
    expect(quorumRefusal([member("a", 1, r), member("b", 2, r), member("c", 3, r)], [2])).toBeUndefined();
    expect(quorumRefusal([member("a", 1, r), member("b", 2, r)], [2])).toBeUndefined();
  });

  it("refuses when the managers that stay have no reachable majority", () => {
    const three = [member("a", 1, r), member("b", 2, r), member("c", 3, u)];
    expect(quorumRefusal(three, [2])).toMatch(/2 manager\(s\) that would stay have 1 reachable, fewer than the 2/);
    // Removing the unreachable one is what brings the group back to health: allowed.
    expect(quorumRefusal(three, [3])).toBeUndefined();
    const five = [member("a", 1, r), member("b", 2, r), member("c", 3, r), member("d", 4, u), member("e", 5, u)];
    expect(quorumRefusal(five, [1])).toMatch(/4 manager\(s\) that would stay have 2 reachable, fewer than the 3/);
  });
});
