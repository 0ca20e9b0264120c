// UpdateNode's checks: known availability and role; a demotion the Raft group could not survive is
// refused with FAILED_PRECONDITION and changes nothing; so is promoting a node that is not ready.
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  Node,
  NodeAvailability,
  NodeDescription,
  NodeRole,
  NodeState,
  Reachability,
  type RaftMemberStatus,
} from "@shoal/shared";
import { removeNode, updateNode } from "../../src/controlapi/nodes.js";
import { MemoryStore } from "../../src/state/store/index.js";

const IDS = ["n1", "n2", "n3"] as const;

function member(i: number, reachability = Reachability.REACHABLE): RaftMemberStatus {
  return {
    member: { raftId: i + 1, nodeId: IDS[i]!, addr: `10.0.0.${i + 1}:4242` },
    leader: i === 0,
    reachability,
    matchIndex: 0,
  };
}

async function setup(count: number): Promise<{ store: MemoryStore; node: (id: string) => Node }> {
  const store = new MemoryStore();
  await store.update((tx) => {
    for (let i = 0; i < count; i++) {
      tx.nodes.create(
        Node.fromPartial({
          id: IDS[i]!,
          role: NodeRole.MANAGER,
          spec: { desiredRole: NodeRole.MANAGER, availability: NodeAvailability.ACTIVE, annotations: { labels: {} } },
          managerStatus: {
            raftId: i + 1,
            addr: `10.0.0.${i + 1}:4242`,
            leader: i === 0,
            reachability: Reachability.REACHABLE,
          },
        }),
      );
    }
    tx.nodes.create(Node.fromPartial({ id: "w1", role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } }));
  });
  return { store, node: (id) => store.view((tx) => tx.nodes.get(id)!) };
}

function setRole(store: MemoryStore, node: Node, desiredRole: number, members: RaftMemberStatus[]) {
  return updateNode(
    store,
    {
      nodeId: node.id,
      nodeVersion: node.meta!.version,
      spec: { desiredRole, availability: NodeAvailability.ACTIVE, annotations: { name: "", labels: {} } },
    },
    () => members,
  );
}

describe("UpdateNode", () => {
  it("refuses an unknown role and changes nothing", async () => {
    const { store, node } = await setup(1);
    const before = node("n1");
    await expect(setRole(store, before, 7, [member(0)])).rejects.toThrow("spec.desired_role: unknown role 7");
    await expect(setRole(store, before, -1, [member(0)])).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    expect(node("n1")).toEqual(before);
  });

  it("refuses to demote the last manager", async () => {
    const { store, node } = await setup(1);
    const before = node("n1");
    await expect(setRole(store, before, NodeRole.WORKER, [member(0)])).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("cannot demote node n1: it is the last manager of the cluster"),
    });
    expect(node("n1")).toEqual(before);
  });

  it("refuses a demotion that leaves no reachable majority", async () => {
    const { store, node } = await setup(3);
    const members = [member(0), member(1), member(2, Reachability.UNREACHABLE)];
    const before = node("n2");
    await expect(setRole(store, before, NodeRole.WORKER, members)).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("the 2 manager(s) that would stay have 1 reachable, fewer than the 2"),
    });
    expect(node("n2")).toEqual(before);
  });

  it("demotes while a reachable majority stays, counting the demotions under way", async () => {
    const { store, node } = await setup(3);
    const members = [member(0), member(1), member(2)];
    const { node: demoted } = await setRole(store, node("n2"), NodeRole.WORKER, members);
    expect(demoted?.spec?.desiredRole).toBe(NodeRole.WORKER);
    // n2 is still a member (its removal is the leader's to do): n1 then n3 may not both go.
    await setRole(store, node("n1"), NodeRole.WORKER, members);
    await expect(setRole(store, node("n3"), NodeRole.WORKER, members)).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("last manager"),
    });
  });

  it("promotes a ready node with an agent, and refuses one that is not ready", async () => {
    const { store, node } = await setup(1);
    await expect(setRole(store, node("w1"), NodeRole.MANAGER, [member(0)])).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("cannot promote node w1: it is not ready"),
    });
    await store.update((tx) =>
      tx.nodes.update({
        ...tx.nodes.get("w1")!,
        description: NodeDescription.fromPartial({ hostname: "h4", engine: { engineVersion: "27" } }),
        status: { state: NodeState.READY, message: "", addr: "10.0.0.4" },
      }),
    );
    const { node: promoted } = await setRole(store, node("w1"), NodeRole.MANAGER, [member(0)]);
    expect(promoted?.spec?.desiredRole).toBe(NodeRole.MANAGER);
    expect(promoted?.role).toBe(NodeRole.WORKER); // until its manager has joined the Raft group
  });

  it("changes availability without touching the role", async () => {
    const { store, node } = await setup(1);
    const before = node("n1");
    const { node: updated } = await updateNode(store, {
      nodeId: "n1",
      nodeVersion: before.meta!.version,
      spec: {
        desiredRole: NodeRole.MANAGER,
        availability: NodeAvailability.DRAIN,
        annotations: { name: "", labels: {} },
      },
    });
    expect(updated?.spec?.availability).toBe(NodeAvailability.DRAIN);
  });
});

describe("RemoveNode", () => {
  it("refuses to remove a manager of the Raft group, even with force", async () => {
    const { store, node } = await setup(2);
    await expect(removeNode(store, { nodeId: "n2", force: true })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("demote it first"),
    });
    expect(node("n2")).toBeDefined();
  });
});
