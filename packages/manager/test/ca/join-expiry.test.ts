// Joins that never completed: a node NodeCA made that opens no session and does not join the Raft
// group is removed once the grace has passed; a node that showed up, a Raft member, and a node
// still within its grace stay. Over a real store and a manual clock.
import { Node, NodeRole, NodeState } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { JoinExpiry, isPendingJoin } from "../../src/ca/join-expiry.js";
import { setup, settle, until } from "../orchestrator/helpers.js";

const GRACE = 60_000;

function joined(id: string, role = NodeRole.WORKER): Node {
  return Node.fromPartial({
    id,
    role,
    spec: { desiredRole: role },
    status: { state: NodeState.UNKNOWN, message: "joined; no session yet" },
  });
}

const running: JoinExpiry[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe("join expiry", () => {
  it("a pending join: no session ever, not a Raft member", () => {
    const members = new Set(["m1"]);
    expect(isPendingJoin(joined("n1"), members)).toBe(true);
    expect(isPendingJoin({ ...joined("n1"), description: { hostname: "h" } as Node["description"] }, members)).toBe(
      false,
    );
    expect(isPendingJoin(joined("m1", NodeRole.MANAGER), members)).toBe(false);
  });

  it("removes the nodes that never showed up once the grace has passed, and only those", async () => {
    const { store, clock, logger } = setup();
    const members = ["m1"];
    await store.update((tx) => {
      tx.nodes.create(joined("gone"));
      tx.nodes.create(joined("seen"));
      tx.nodes.create(joined("m1", NodeRole.MANAGER));
    });
    const expiry = new JoinExpiry({ store, clock, logger, managers: () => members, graceMs: GRACE });
    running.push(expiry);
    void expiry.run();
    await settle();
    // "seen" opens a session (the dispatcher writes its description).
    await store.update((tx) => {
      const n = tx.nodes.get("seen")!;
      tx.nodes.update({ ...n, description: { hostname: "seen" } as Node["description"] });
    });
    clock.advance(GRACE / 2);
    await store.update((tx) => void tx.nodes.create(joined("late")));
    await settle();
    const ids = (): string[] => store.view((tx) => tx.nodes.find().map((n) => n.id)).sort();
    expect(ids()).toEqual(["gone", "late", "m1", "seen"]);

    clock.advance(GRACE / 2 - 1);
    await settle();
    expect(ids()).toEqual(["gone", "late", "m1", "seen"]);
    clock.advance(1);
    await until(() => !ids().includes("gone"), "the first pending join removed");
    expect(ids()).toEqual(["late", "m1", "seen"]);

    clock.advance(GRACE / 2);
    await until(() => !ids().includes("late"), "the second pending join removed");
    expect(ids()).toEqual(["m1", "seen"]);
  });

  it("a new leader counts from the node's creation, not from its own start", async () => {
    const { store, clock, logger } = setup();
    await store.update((tx) => void tx.nodes.create(joined("old")));
    clock.advance(GRACE + 1);
    const expiry = new JoinExpiry({ store, clock, logger, managers: () => [], graceMs: GRACE });
    running.push(expiry);
    void expiry.run();
    await until(() => store.view((tx) => tx.nodes.find()).length === 0, "the expired node removed at start");
  });
});
