// The four components together on one store, as the leader runs them: a service's life from
// creation to removal, with failures, a node going down, scaling and history.
import { NodeState, TaskState } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { GlobalOrchestrator } from "../../src/orchestrator/global/orchestrator.js";
import { TaskReaper } from "../../src/orchestrator/reaper/task-reaper.js";
import { ReplicatedOrchestrator } from "../../src/orchestrator/replicated/orchestrator.js";
import { RestartSupervisor } from "../../src/orchestrator/restart/supervisor.js";
import { node, service } from "./fixtures.js";
import { place, report, runnable, settle, setup, tasksOf, until } from "./helpers.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("the orchestrators together", () => {
  it("keep a service running through failures and a lost node, then clean it away", async () => {
    const { store, clock, logger } = setup();
    for (const c of [
      new ReplicatedOrchestrator({ store, clock, logger }),
      new GlobalOrchestrator({ store, clock, logger }),
      new RestartSupervisor({ store, clock, logger }),
      new TaskReaper({ store, clock, logger }),
    ]) {
      void c.run();
      stops.push(() => c.stop());
    }
    const web = service("web", { replicas: 3 });
    const agent = service("agent", { global: true });
    await store.update((tx) => {
      tx.nodes.create(node("n1"));
      tx.nodes.create(node("n2"));
      tx.services.create(web);
      tx.services.create(agent);
    });
    await until(() => tasksOf(store, web.id).length === 3 && tasksOf(store, agent.id).length === 2, "tasks");
    // The scheduler and the agents: web.1 and web.2 on n1, web.3 on n2; the agents' tasks run.
    for (const t of tasksOf(store, web.id)) await place(store, t.id, t.slot === 3 ? "n2" : "n1");
    for (const t of tasksOf(store, agent.id)) await place(store, t.id, t.nodeId);

    // web.3 fails: replaced 5 s later.
    const web3 = tasksOf(store, web.id).find((t) => t.slot === 3)!;
    await report(store, web3.id, TaskState.FAILED, 137);
    await settle();
    clock.advance(5_000);
    await until(() => runnable(tasksOf(store, web.id)).length === 3, "web.3 replaced");

    // n1 goes down: web.1 and web.2 are replaced at once; the agent task on n1 is left alone.
    await store.update((tx) => {
      const n = tx.nodes.get("n1")!;
      n.status!.state = NodeState.DOWN;
      tx.nodes.update(n);
    });
    await until(() => runnable(tasksOf(store, web.id)).filter((t) => t.nodeId === "").length === 3, "moved");
    expect(
      runnable(tasksOf(store, agent.id))
        .map((t) => t.nodeId)
        .sort(),
    ).toEqual(["n1", "n2"]);
    expect(tasksOf(store, web.id)).toHaveLength(6);

    // Scale to 1, then remove both services: everything is removed, and deleted once ended.
    await store.update((tx) => {
      const s = tx.services.get(web.id)!;
      s.spec!.mode = { $case: "replicated", value: { replicas: 1 } };
      tx.services.update(s);
    });
    await until(() => runnable(tasksOf(store, web.id)).length === 1, "scaled to 1");
    await store.update((tx) => {
      tx.services.delete(web.id);
      tx.services.delete(agent.id);
    });
    // What never reached a node, and what had ended, goes at once.
    await until(() => tasksOf(store, web.id).length === 2, "web: only the tasks still running on n1 stay");
    for (const t of tasksOf(store, web.id)) {
      expect(t).toMatchObject({ nodeId: "n1", desiredState: TaskState.REMOVE, status: { state: TaskState.RUNNING } });
    }
    await until(() => tasksOf(store, agent.id).length === 2, "agent tasks removed");
    for (const t of [...tasksOf(store, web.id), ...tasksOf(store, agent.id)])
      await report(store, t.id, TaskState.SHUTDOWN);
    await until(() => store.view((tx) => tx.tasks.find()).length === 0, "every task deleted");
    await settle();
    expect(clock.pendingTimers).toBe(0);
  });
});
