// Failover of agent hosts and of the whole cluster under faults, on one shared cluster (3 managers,
// 3 agent hosts), each scenario while a client keeps writing; the checker then verifies the writes
// and that tasks and containers match the specs. Scenarios follow issue 5: 4 an agent host cut
// from the managers, 5 an agent host dies, 7 a full restart, 8 a slow and lossy network.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeState, TaskState } from "@shoal/shared";
import { FailoverCluster } from "./cluster.js";
import { containersOn, observe } from "./observe.js";
import { runScenario, writesProgress, type ScenarioResult } from "./scenario.js";
import { serviceSpec } from "./writer.js";
import { waitUntil } from "../support/wait.js";

let cluster: FailoverCluster;
/** A service the writer never touches: 6 replicas, 2 per host, so every host runs some. */
const SPREAD = "spread";

beforeAll(async () => {
  cluster = await FailoverCluster.start({ managers: 3, agents: 3 });
  const leader = await cluster.leader();
  await cluster.control.call(leader.addr, "createService", { spec: serviceSpec(SPREAD, cluster.baseImage, 6) });
  await waitUntil(
    "spread to run 2 containers per host",
    async () => {
      const counts = await Promise.all(cluster.agentHosts.map(async (h) => (await containersOn(h)).length));
      return counts.every((c) => c === 2);
    },
    60_000,
  );
});

afterAll(async () => {
  await cluster?.dispose();
});

function report(name: string, r: ScenarioResult): void {
  console.log(`failover ${name}: ${r.history.summary()}, ${(r.ms / 1000).toFixed(1)} s`);
}

/** The node id of an agent host. */
async function nodeIdOf(hostname: string): Promise<string> {
  const { nodes } = await cluster.control.call((await cluster.leader()).addr, "listNodes", { filters: undefined });
  return nodes.find((n) => n.description?.hostname === hostname)!.id;
}

/** Waits until no task runs on the node, as the task list says, and every service has its replicas elsewhere. */
async function waitTasksMovedOff(nodeId: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    "tasks to run elsewhere",
    async () => {
      const o = await observe(cluster);
      if (o.tasks.some((t) => t.nodeId === nodeId && t.running)) return false;
      return o.services.every((s) => o.tasks.filter((t) => t.serviceId === s.id && t.running).length === s.replicas);
    },
    timeoutMs,
  );
}

describe("failover of agents", () => {
  it("4: an agent host cut from the managers: its tasks move, and on healing its old containers stop", async () => {
    const a3 = cluster.agentHost("a3");
    const a3Node = await nodeIdOf("a3");
    const r = await runScenario(cluster, { prefix: "s4", seed: 4 }, async () => {
      const before = (await containersOn(a3)).length;
      expect(before).toBeGreaterThan(0);
      await cluster.harness.split(
        [a3],
        cluster.managers.map((m) => m.host),
      );
      await waitUntil("a3 to be down", async () => (await cluster.nodeStates()).get("a3") === NodeState.DOWN);
      await waitTasksMovedOff(a3Node);
      // Cut off, the agent keeps its containers running (it cannot know it was replaced).
      expect((await containersOn(a3)).length).toBeGreaterThan(0);
      await cluster.harness.healAll();
      await cluster.waitAgentsReady([a3]);
    });
    report("4 (agent host cut from the managers)", r);
    expect(r.violations).toEqual([]);
  });

  it("5: an agent host that dies has its tasks moved, and comes back empty", async () => {
    const a3 = cluster.agentHost("a3");
    const a3Node = await nodeIdOf("a3");
    // Make sure a3 runs something before it dies.
    const leader = await cluster.leader();
    const spread = (await cluster.control.call(leader.addr, "getService", { serviceId: SPREAD })).service!;
    const r = await runScenario(cluster, { prefix: "s5", seed: 5 }, async () => {
      await cluster.control.call(leader.addr, "updateService", {
        serviceId: spread.id,
        serviceVersion: spread.meta?.version,
        spec: serviceSpec(SPREAD, cluster.baseImage, 9),
        rollback: false,
      });
      await waitUntil("a3 to run a task", async () => (await containersOn(a3)).length > 0, 30_000);
      const oldTasks = new Set((await containersOn(a3)).map((c) => c.taskId));
      await a3.kill(); // agent, dockerd and containers at once
      await waitUntil("a3 to be down", async () => (await cluster.nodeStates()).get("a3") === NodeState.DOWN);
      await waitTasksMovedOff(a3Node);
      await a3.startDocker();
      cluster.startAgent(a3);
      await cluster.waitAgentsReady([a3]);
      // Back empty: none of the tasks it ran before the crash runs there again.
      const { tasks } = await cluster.control.call((await cluster.leader()).addr, "listTasks", {
        filters: { idPrefixes: [], serviceIds: [], nodeIds: [a3Node], desiredStates: [] },
      });
      for (const t of tasks.filter((t) => oldTasks.has(t.id))) {
        expect(t.desiredState).toBeGreaterThan(TaskState.RUNNING);
      }
      await waitUntil(
        "no old container running on a3",
        async () => (await containersOn(a3)).every((c) => !oldTasks.has(c.taskId)),
        20_000,
      );
    });
    report("5 (agent host dies)", r);
    expect(r.violations).toEqual([]);
  });

  it("7: a restart of every manager and agent brings every service back and restarts no running container", async () => {
    let before = new Map<string, string>();
    let snapshotAt = 0;
    const r = await runScenario(cluster, { prefix: "s7", seed: 7 }, async () => {
      snapshotAt = Date.now();
      before = await startedAtById();
      for (const m of cluster.running()) await cluster.killManager(m);
      for (const h of cluster.agentHosts) await cluster.killAgent(h);
      for (const m of cluster.managers) cluster.restartManager(m);
      for (const h of cluster.agentHosts) cluster.startAgent(h);
      await cluster.leader();
      await cluster.waitAgentsReady(cluster.agentHosts);
    });
    report("7 (full restart)", r);
    expect(r.violations).toEqual([]);
    // Containers of services that no write touched since the snapshot run on, not restarted.
    const touched = new Set(r.history.records.filter((w) => w.startedAt >= snapshotAt).map((w) => w.service));
    const o = await observe(cluster);
    const untouched = new Set(o.services.filter((s) => !touched.has(s.name)).map((s) => s.id));
    const after = await startedAtById();
    const kept = [...before].filter(([id]) => untouched.has(serviceOf.get(id) ?? ""));
    expect(kept.length).toBeGreaterThan(0);
    for (const [id, started] of kept) expect(after.get(id), `container ${id}`).toBe(started);
  });

  it("8: a slow, lossy network keeps the cluster correct, and it converges once healed", async () => {
    const r = await runScenario(cluster, { prefix: "s8", seed: 8 }, async (writer) => {
      // Every cable: 30 ± 10 ms each way (60 ms between two hosts) and 3 % of frames lost.
      for (const h of cluster.harness.hosts) {
        await h.setDelay(30, 10);
        await h.setLoss(0.03);
      }
      await writesProgress(writer, 8, 60_000);
      await cluster.harness.healAll();
    });
    report("8 (slow, lossy network)", r);
    expect(r.violations).toEqual([]);
  });
});

/** Which service each container seen by startedAtById belongs to. */
const serviceOf = new Map<string, string>();

/** Running Shoal containers on every agent host: id -> StartedAt. */
async function startedAtById(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const h of cluster.agentHosts) {
    const containers = await containersOn(h);
    if (containers.length === 0) continue;
    const res = await h.docker(["inspect", "--format", "{{.Id}} {{.State.StartedAt}}", ...containers.map((c) => c.id)]);
    for (const c of containers) serviceOf.set(c.id, c.serviceId);
    for (const line of res.stdout.split("\n").filter(Boolean)) {
      const [id = "", started = ""] = line.split(" ");
      out.set(id, started);
    }
  }
  return out;
}
