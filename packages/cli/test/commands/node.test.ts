// `shoal node ls`: the MANAGER STATUS column as `docker node ls` shows it.
import { describe, expect, it } from "vitest";
import { Node, NodeRole, NodeState, Reachability } from "@shoal/shared";
import { managerStatusText, nodeTable } from "../../src/commands/node.js";

const manager = (leader: boolean, reachability: Reachability): Node =>
  Node.fromPartial({
    id: "m0000000000000000000000001",
    role: NodeRole.MANAGER,
    description: { hostname: "h1" },
    status: { state: NodeState.READY },
    managerStatus: { raftId: 1, addr: "10.0.0.1:4242", leader, reachability },
  });

describe("managerStatusText", () => {
  it("Leader, Reachable, Unreachable for managers; blank for workers", () => {
    expect(managerStatusText(manager(true, Reachability.REACHABLE))).toBe("Leader");
    expect(managerStatusText(manager(false, Reachability.REACHABLE))).toBe("Reachable");
    expect(managerStatusText(manager(false, Reachability.UNREACHABLE))).toBe("Unreachable");
    expect(managerStatusText(Node.fromPartial({ role: NodeRole.WORKER }))).toBe("");
  });

  it("is the table's MANAGER STATUS column", () => {
    const table = nodeTable([manager(false, Reachability.UNREACHABLE)]);
    expect(table).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION\n/);
    expect(table).toMatch(/h1\s+Ready\s+Active\s+Unreachable/);
  });
});
