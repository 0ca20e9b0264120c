// UpdateNode's checks: known availability and role; a role change (not built) is refused, not ignored.
import { describe, expect, it } from "vitest";
import { ErrorCode, Node, NodeAvailability, NodeRole } from "@shoal/shared";
import { updateNode } from "../../src/controlapi/nodes.js";
import { MemoryStore } from "../../src/state/store/index.js";

async function setup(): Promise<{ store: MemoryStore; node: () => Node }> {
  const store = new MemoryStore();
  await store.update((tx) =>
    tx.nodes.create(
      Node.fromPartial({
        id: "n1",
        role: NodeRole.MANAGER,
        spec: { desiredRole: NodeRole.MANAGER, availability: NodeAvailability.ACTIVE, annotations: { labels: {} } },
      }),
    ),
  );
  return { store, node: () => store.view((tx) => tx.nodes.get("n1")!) };
}

describe("UpdateNode", () => {
  it("refuses an unknown role and a change of role, and changes nothing", async () => {
    const { store, node } = await setup();
    const before = node();
    const update = (desiredRole: number) =>
      updateNode(store, {
        nodeId: "n1",
        nodeVersion: before.meta!.version,
        spec: { desiredRole, availability: NodeAvailability.DRAIN, annotations: { name: "", labels: {} } },
      });
    await expect(update(7)).rejects.toThrow("spec.desired_role: unknown role 7");
    await expect(update(-1)).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
    await expect(update(NodeRole.WORKER)).rejects.toThrow(
      "spec.desired_role: changing a node's role (to WORKER) is not supported; its role is MANAGER",
    );
    expect(node()).toEqual(before);
    const { node: updated } = await update(NodeRole.MANAGER);
    expect(updated?.spec?.availability).toBe(NodeAvailability.DRAIN);
  });
});
