// Managers are nodes, as in Swarm: each member of the Raft group has a Node in the store, with
// role manager and its ManagerStatus (raft id, address, leader, reachability as the leader sees
// it). The agent beside a manager runs as that node (same node id), so a manager host runs tasks
// unless it is drained. A manager with no agent beside it is still a node: the manager stands in
// for the agent's status (READY while the leader hears it, DOWN when not) and no task is placed
// there (managerOnly).
//
// Pure: the leader's ManagerNodes component applies the plans, UpdateNode the demotion check.
import {
  Node,
  NodeAvailability,
  NodeDescription,
  NodeRole,
  NodeState,
  Reachability,
  type ManagerStatus,
  type RaftMember,
  type RaftMemberStatus,
} from "@shoal/shared";

const NO_AGENT = "manager; no agent runs tasks here";

/** A manager's node that no agent has registered for (no engine described): it runs no tasks. */
export function managerOnly(node: Node): boolean {
  const manager = node.role === NodeRole.MANAGER || node.managerStatus !== undefined;
  return manager && node.description?.engine === undefined;
}

/** The host of a HOST:PORT address (brackets of an IPv6 literal removed). */
function hostOf(addr: string): string {
  return addr.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
}

/** The node of a Raft member that has none yet (the founding manager, a cluster from before). */
export function newManagerNode(member: RaftMember): Node {
  return Node.fromPartial({
    id: member.nodeId,
    role: NodeRole.MANAGER,
    spec: {
      desiredRole: NodeRole.MANAGER,
      availability: NodeAvailability.ACTIVE,
      annotations: { name: "", labels: {} },
    },
    // The host until an agent describes it (the manager's own host name is not in the group's view).
    description: { hostname: hostOf(member.addr) },
    status: { state: NodeState.UNKNOWN, message: NO_AGENT, addr: hostOf(member.addr) },
    managerStatus: { raftId: member.raftId, addr: member.addr, leader: false, reachability: Reachability.UNKNOWN },
  });
}

export interface ManagerNodesPlan {
  readonly create: Node[];
  readonly update: Node[];
}

function sameManagerStatus(a: ManagerStatus | undefined, b: ManagerStatus | undefined): boolean {
  return (
    a?.raftId === b?.raftId && a?.addr === b?.addr && a?.leader === b?.leader && a?.reachability === b?.reachability
  );
}

/**
 * What to write so that the nodes show the Raft group (`members` as the leader sees it): a node
 * for each member, with role manager and its ManagerStatus; a node that was a member and is no
 * more (demoted, or removed from the group) becomes a worker. A node made for a manager that has
 * not joined the group yet (role manager, no ManagerStatus) is left alone.
 */
export function planManagerNodes(nodes: readonly Node[], members: readonly RaftMemberStatus[]): ManagerNodesPlan {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const plan: ManagerNodesPlan = { create: [], update: [] };
  const memberIds = new Set<string>();
  for (const m of members) {
    if (!m.member) continue;
    memberIds.add(m.member.nodeId);
    const found = byId.get(m.member.nodeId);
    const base = found ?? newManagerNode(m.member);
    const managerStatus: ManagerStatus = {
      raftId: m.member.raftId,
      addr: m.member.addr,
      leader: m.leader,
      reachability: m.reachability,
    };
    const next: Node = { ...base, role: NodeRole.MANAGER, managerStatus };
    // A node NodeCA made at join has no description until an agent gives one: the host meanwhile.
    if (!next.description?.hostname) {
      next.description = NodeDescription.fromPartial({ ...next.description, hostname: hostOf(m.member.addr) });
    }
    if (managerOnly(next)) next.status = managerOnlyStatus(next, m.reachability);
    if (!found) plan.create.push(next);
    else if (
      found.role !== next.role ||
      found.description?.hostname !== next.description?.hostname ||
      !sameManagerStatus(found.managerStatus, managerStatus) ||
      found.status?.state !== next.status?.state ||
      found.status?.message !== next.status?.message
    ) {
      plan.update.push(next);
    }
  }
  for (const node of nodes) {
    if (memberIds.has(node.id) || node.managerStatus === undefined) continue;
    const next: Node = { ...node, role: NodeRole.WORKER, managerStatus: undefined };
    if (node.description?.engine === undefined) {
      next.status = {
        state: NodeState.DOWN,
        message: "left the Raft group; no agent runs here",
        addr: node.status?.addr ?? "",
      };
    }
    plan.update.push(next);
  }
  return plan;
}

function managerOnlyStatus(node: Node, reachability: Reachability): Node["status"] {
  const addr = node.status?.addr ?? "";
  if (reachability === Reachability.REACHABLE) return { state: NodeState.READY, message: NO_AGENT, addr };
  if (reachability === Reachability.UNREACHABLE) return { state: NodeState.DOWN, message: "manager unreachable", addr };
  return node.status;
}

/** Members whose node should be a worker now: the demotions the leader carries out. */
export function pendingDemotions(nodes: readonly Node[], members: readonly RaftMemberStatus[]): RaftMemberStatus[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return members.filter((m) => {
    const node = m.member ? byId.get(m.member.nodeId) : undefined;
    return node !== undefined && (node.spec?.desiredRole ?? node.role) === NodeRole.WORKER;
  });
}

/**
 * Why removing the members `leaving` (raft ids) from the group would break it, or undefined when
 * it is safe: the last manager never leaves, and the managers that stay must keep a reachable
 * majority among themselves (else the group could not commit the change, nor anything after it).
 */
export function quorumRefusal(members: readonly RaftMemberStatus[], leaving: readonly number[]): string | undefined {
  const staying = members.filter((m) => m.member && !leaving.includes(m.member.raftId));
  if (staying.length === 0) {
    return "it is the last manager of the cluster: promote another node first";
  }
  const reachable = staying.filter((m) => m.reachability !== Reachability.UNREACHABLE).length;
  const majority = Math.floor(staying.length / 2) + 1;
  if (reachable < majority) {
    return (
      `the ${staying.length} manager(s) that would stay have ${reachable} reachable, fewer than the ` +
      `${majority} Raft needs for a majority: bring the unreachable managers back first`
    );
  }
  return undefined;
}
