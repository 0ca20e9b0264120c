import { NodeAvailability, NodeState, TaskState, type Node } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { GlobalOrchestrator } from "../../../src/orchestrator/global/orchestrator.js";
import type { NodeMatcher } from "../../../src/orchestrator/node-checks.js";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { node, service } from "../fixtures.js";
import { runnable, settle, setup, tasksOf, until } from "../helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function running(store: MemoryStore, serviceId: string): string[] {
  return runnable(tasksOf(store, serviceId))
    .map((t) => t.nodeId)
    .sort();
}

async function updateNode(store: MemoryStore, id: string, change: (n: Node) => void): Promise<void> {
  await store.update((tx) => {
    const n = tx.nodes.get(id)!;
    change(n);
    tx.nodes.update(n);
  });
}

describe("GlobalOrchestrator", () => {
  it("runs one task per eligible node and follows nodes that join, drain, come back and leave", async () => {
    const { store, clock, logger } = setup();
    const orchestrator = new GlobalOrchestrator({ store, clock, logger });
    void orchestrator.run();
    stops.push(() => orchestrator.stop());
    const svc = service("agent", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("a"));
      tx.nodes.create(node("b"));
      tx.nodes.create(node("p", { availability: NodeAvailability.PAUSE }));
      tx.services.create(svc);
    });
    await until(() => running(store, svc.id).length === 2, "2 tasks");
    expect(running(store, svc.id)).toEqual(["a", "b"]);
    for (const t of tasksOf(store, svc.id)) {
      expect(t).toMatchObject({
        slot: 0,
        status: { state: TaskState.NEW },
        annotations: { name: `agent.${t.nodeId}` },
      });
    }

    await store.update((tx) => tx.nodes.create(node("c")));
    await until(() => running(store, svc.id).length === 3, "a task on the node that joined");
    expect(running(store, svc.id)).toEqual(["a", "b", "c"]);

    await updateNode(store, "b", (n) => (n.spec!.availability = NodeAvailability.DRAIN));
    await until(() => running(store, svc.id).join() === "a,c", "b drained");
    expect(tasksOf(store, svc.id).find((t) => t.nodeId === "b")?.desiredState).toBe(TaskState.REMOVE);

    await updateNode(store, "b", (n) => (n.spec!.availability = NodeAvailability.ACTIVE));
    await until(() => running(store, svc.id).join() === "a,b,c", "b active again");

    await updateNode(store, "a", (n) => (n.status!.state = NodeState.DOWN));
    await settle();
    expect(running(store, svc.id)).toEqual(["a", "b", "c"]); // a down node's task is left as it is

    await store.update((tx) => tx.nodes.delete("c"));
    await until(() => running(store, svc.id).join() === "a,b", "c removed");

    await updateNode(store, "p", (n) => (n.spec!.availability = NodeAvailability.ACTIVE));
    await until(() => running(store, svc.id).join() === "a,b,p", "p unpaused");
  });

  it("checks constraints with the matcher it is given, again when node labels change", async () => {
    const { store, clock, logger } = setup();
    const nodeMatches: NodeMatcher = (n) => n.spec?.annotations?.labels["edge"] === "yes";
    const orchestrator = new GlobalOrchestrator({ store, clock, logger, nodeMatches });
    void orchestrator.run();
    stops.push(() => orchestrator.stop());
    const svc = service("proxy", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("a", { labels: { edge: "yes" } }));
      tx.nodes.create(node("b"));
      tx.services.create(svc);
    });
    await until(() => running(store, svc.id).join() === "a", "only on a");
    await updateNode(store, "b", (n) => (n.spec!.annotations!.labels["edge"] = "yes"));
    await until(() => running(store, svc.id).join() === "a,b", "b labelled");
    await updateNode(store, "a", (n) => delete n.spec!.annotations!.labels["edge"]);
    await until(() => running(store, svc.id).join() === "b", "a unlabelled");
  });

  it("removes the tasks of a global service that is removed; leaves replicated services alone", async () => {
    const { store, clock, logger } = setup();
    const orchestrator = new GlobalOrchestrator({ store, clock, logger });
    void orchestrator.run();
    stops.push(() => orchestrator.stop());
    const svc = service("agent", { global: true });
    const web = service("web", { replicas: 2 });
    await store.update((tx) => {
      tx.nodes.create(node("a"));
      tx.services.create(svc);
      tx.services.create(web);
    });
    await until(() => running(store, svc.id).length === 1, "a task");
    await store.update((tx) => tx.services.delete(svc.id));
    await until(() => tasksOf(store, svc.id).every((t) => t.desiredState === TaskState.REMOVE), "removed");
    expect(tasksOf(store, web.id)).toEqual([]);
  });
});
