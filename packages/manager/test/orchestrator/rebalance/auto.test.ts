import { NodeState, UpdateState } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { settle } from "../helpers.js";
import { addNode, drive, perNode, runningService, serviceOf, startLeader, type Leader } from "./leader.js";

const COOLDOWN = 10_000;
const leaders: Leader[] = [];
afterEach(async () => {
  for (const l of leaders.splice(0)) await l.stop();
});

function leader(): Leader {
  const l = startLeader(COOLDOWN);
  leaders.push(l);
  return l;
}

async function setState(l: Leader, id: string, state: NodeState): Promise<void> {
  await l.store.update((tx) => {
    const n = tx.nodes.get(id)!;
    tx.nodes.update({ ...n, status: { ...n.status!, state } });
  });
}

/** Lets `ms` pass in steps of 500 ms, agents running, components reacting. */
async function pass(l: Leader, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    l.clock.advance(500);
    await settle();
  }
}

describe("automatic rebalancing (--rebalance auto)", () => {
  it("rebalances to 2/2/2 once a new node has stayed ready for the cool-down, not before", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"], auto: true });
    await pass(l, COOLDOWN); // the leader's own look at the nodes it found: balanced, nothing moves
    expect(serviceOf(l, svc.id).rebalanceStatus).toBeUndefined();

    await addNode(l, "c");
    await pass(l, COOLDOWN - 1_000);
    expect(serviceOf(l, svc.id).rebalanceStatus).toBeUndefined();
    await pass(l, 1_500);
    const status = serviceOf(l, svc.id).rebalanceStatus!;
    expect(status.state).toBe(UpdateState.UPDATING);
    expect(status.message).toBe("automatic rebalance in progress (node host-c ready): 2 tasks to move");
    await drive(l, () => serviceOf(l, svc.id).rebalanceStatus?.state === UpdateState.COMPLETED);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("a flapping node moves nothing; once it stays ready for the cool-down, the service rebalances", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"], auto: true });
    await pass(l, COOLDOWN);
    await addNode(l, "c");
    for (let i = 0; i < 5; i++) {
      await pass(l, COOLDOWN / 2);
      await setState(l, "c", NodeState.DOWN);
      await pass(l, 2_000);
      await setState(l, "c", NodeState.READY);
    }
    expect(serviceOf(l, svc.id).rebalanceStatus).toBeUndefined();
    expect(perNode(l.store, svc.id)).toEqual({ a: 3, b: 3 });
    await pass(l, COOLDOWN + 500);
    expect(serviceOf(l, svc.id).rebalanceStatus?.state).toBe(UpdateState.UPDATING);
    await drive(l, () => serviceOf(l, svc.id).rebalanceStatus?.state === UpdateState.COMPLETED);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("at most one automatic rebalance per service per cool-down window", async () => {
    const l = leader();
    const svc = await runningService(l, {
      replicas: 8,
      nodes: ["a", "b"],
      auto: true,
      constraints: ["node.labels.zone!=edge"],
      update: { parallelism: 0 },
    });
    await pass(l, COOLDOWN);
    await addNode(l, "c");
    await pass(l, 1_000);
    await addNode(l, "d", { zone: "edge" }); // ready, but the service may not use it yet
    await pass(l, COOLDOWN - 500);
    const first = serviceOf(l, svc.id).rebalanceStatus!;
    expect(first.message).toBe("automatic rebalance in progress (node host-c ready): 2 tasks to move");
    await drive(l, () => serviceOf(l, svc.id).rebalanceStatus?.state === UpdateState.COMPLETED);
    expect(perNode(l.store, svc.id)).toEqual({ a: 3, b: 3, c: 2 });
    // d may take tasks now; its cool-down ends within the service's window: held until the window ends.
    await l.store.update((tx) => {
      const d = tx.nodes.get("d")!;
      tx.nodes.update({ ...d, spec: { ...d.spec!, annotations: { name: "", labels: {} } } });
    });
    const windowEnd = first.startedAt!.getTime() + COOLDOWN;
    while (l.clock.now() < windowEnd - 500) {
      await pass(l, 500);
      expect(serviceOf(l, svc.id).rebalanceStatus!.startedAt).toEqual(first.startedAt);
    }
    await pass(l, 1_000);
    const second = serviceOf(l, svc.id).rebalanceStatus!;
    expect(second.state).toBe(UpdateState.UPDATING);
    expect(second.startedAt!.getTime()).toBeGreaterThanOrEqual(windowEnd);
    await drive(l, () => serviceOf(l, svc.id).rebalanceStatus?.state === UpdateState.COMPLETED);
    expect(perNode(l.store, svc.id)).toEqual({ a: 2, b: 2, c: 2, d: 2 });
  });

  it("leaves manual services alone", async () => {
    const l = leader();
    const svc = await runningService(l, { replicas: 6, nodes: ["a", "b"] });
    await addNode(l, "c");
    await pass(l, 3 * COOLDOWN);
    expect(serviceOf(l, svc.id).rebalanceStatus).toBeUndefined();
    expect(perNode(l.store, svc.id)).toEqual({ a: 3, b: 3 });
  });
});
