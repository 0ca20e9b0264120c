// Failover on the test harness (3 managers and 3 agent hosts, each with its own network namespace
// and, for agents, its own dockerd), in rounds:
//  - leader SIGKILL -> first write accepted by a new leader (target: under 1 s);
//  - tasks restarted or moved by that leader change alone, once the new leader's grace time for
//    agents has passed (target: 0);
//  - agent host killed (agent, dockerd and containers) -> all its tasks running elsewhere, as the
//    task list says (target: under 5 s).
// Prints one JSON line per measure (medians over the rounds). Needs root (scripts/setup.sh --test).
// BENCH_FAILOVER_ROUNDS sets the rounds (default 5).
import { NodeState, TaskState } from "@shoal/shared";
import { FailoverCluster } from "../e2e/failover/cluster.js";
import { serviceSpec } from "../e2e/failover/writer.js";
import { waitUntil } from "../e2e/support/wait.js";

const ROUNDS = Number(process.env["BENCH_FAILOVER_ROUNDS"] ?? 5);
/** The dispatcher's grace time for agents after a leader change (3 heartbeats of 1 s + 5 s), and a margin. */
const GRACE_MS = 8000 + 1500;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Math.round(x);

/** Running tasks (desired and actual) as `taskId/containerId`, from the leader's task list. */
async function runningTasks(cluster: FailoverCluster, serviceId?: string): Promise<{ id: string; node: string }[]> {
  const leader = await cluster.leader();
  const { tasks } = await cluster.control.call(
    leader.addr,
    "listTasks",
    { filters: { idPrefixes: [], serviceIds: serviceId ? [serviceId] : [], nodeIds: [], desiredStates: [] } },
    5000,
  );
  return tasks
    .filter((t) => t.desiredState === TaskState.RUNNING && t.status?.state === TaskState.RUNNING)
    .map((t) => ({ id: `${t.id}/${t.status?.containerStatus?.containerId ?? ""}`, node: t.nodeId }));
}

async function leaderRounds(cluster: FailoverCluster): Promise<void> {
  const toWrite: number[] = [];
  const restarted: number[] = [];
  let n = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const before = new Set((await runningTasks(cluster)).map((t) => t.id));
    const old = await cluster.leader();
    const others = cluster.running().filter((m) => m !== old);
    const t0 = performance.now();
    await cluster.killManager(old);
    // Ask both survivors at once, again and again, until one accepts a write.
    let accepted = false;
    while (!accepted) {
      const spec = serviceSpec(`bench-write-${r}-${n++}`, cluster.baseImage, 0);
      const results = await Promise.allSettled(
        others.map((m) => cluster.control.call(m.addr, "createService", { spec }, 1000)),
      );
      accepted = results.some((x) => x.status === "fulfilled");
      if (!accepted) await new Promise((res) => setTimeout(res, 10));
    }
    toWrite.push(performance.now() - t0);
    cluster.restartManager(old);
    await cluster.waitFollower(old);
    // Past the grace time: a task that was running and is no longer is one the change restarted.
    await new Promise((res) => setTimeout(res, Math.max(0, GRACE_MS - (performance.now() - t0))));
    const after = new Set((await runningTasks(cluster)).map((t) => t.id));
    restarted.push([...before].filter((id) => !after.has(id)).length);
  }
  console.log(
    JSON.stringify({
      bench: "failover",
      case: "leader-sigkill-to-write",
      managers: 3,
      rounds: toWrite.length,
      p50_ms: round(median(toWrite)),
      max_ms: round(Math.max(...toWrite)),
      all_ms: toWrite.map(round),
      target_p50_ms: 1000,
    }),
  );
  console.log(
    JSON.stringify({
      bench: "failover",
      case: "tasks-restarted-by-leader-change",
      rounds: restarted.length,
      p50: median(restarted),
      max: Math.max(...restarted),
      all: restarted,
      target: 0,
    }),
  );
}

async function agentRounds(cluster: FailoverCluster, serviceId: string, replicas: number): Promise<void> {
  const toDown: number[] = [];
  const toReplaced: number[] = [];
  const { nodes } = await cluster.control.call((await cluster.leader()).addr, "listNodes", { filters: undefined });
  const hostOf = new Map(nodes.map((node) => [node.id, node.description?.hostname ?? ""]));
  for (let r = 0; r < ROUNDS; r++) {
    // The host that runs the most tasks of the service dies.
    const tasks = await runningTasks(cluster, serviceId);
    const perNode = new Map<string, number>();
    for (const t of tasks) perNode.set(t.node, (perNode.get(t.node) ?? 0) + 1);
    const [victimNode] = [...perNode].sort((a, b) => b[1] - a[1])[0]!;
    const host = cluster.agentHost(hostOf.get(victimNode)!);
    const t0 = performance.now();
    await host.kill();
    let downAt = 0;
    await waitUntil(
      "the tasks to run elsewhere",
      async () => {
        if (downAt === 0 && (await cluster.nodeStates()).get(host.name) === NodeState.DOWN) {
          downAt = performance.now();
        }
        const now = await runningTasks(cluster, serviceId);
        return now.filter((t) => t.node !== victimNode).length === replicas;
      },
      60_000,
    );
    toReplaced.push(performance.now() - t0);
    toDown.push((downAt || performance.now()) - t0);
    await host.startDocker();
    cluster.startAgent(host);
    await cluster.waitAgentsReady([host]);
  }
  console.log(
    JSON.stringify({
      bench: "failover",
      case: "agent-host-killed-to-tasks-elsewhere",
      agents: cluster.agentHosts.length,
      replicas,
      rounds: toReplaced.length,
      p50_ms: round(median(toReplaced)),
      max_ms: round(Math.max(...toReplaced)),
      all_ms: toReplaced.map(round),
      node_down_p50_ms: round(median(toDown)),
      target_p50_ms: 5000,
    }),
  );
}

async function main(): Promise<void> {
  const cluster = await FailoverCluster.start({ managers: 3, agents: 3 });
  try {
    const replicas = 6;
    const leader = await cluster.leader();
    const { service } = await cluster.control.call(leader.addr, "createService", {
      spec: serviceSpec("bench-spread", cluster.baseImage, replicas),
    });
    await waitUntil(
      "bench-spread to run",
      async () => (await runningTasks(cluster, service!.id)).length === replicas,
      60_000,
    );
    await leaderRounds(cluster);
    await agentRounds(cluster, service!.id, replicas);
  } finally {
    await cluster.dispose();
  }
}

await main();
