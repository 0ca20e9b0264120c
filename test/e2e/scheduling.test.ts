// The heart of Shoal on real hosts: three managers (processes on the harness gateway) and three
// agent hosts, each with its own dockerd. Services are placed, spread, scaled, restarted, drained
// and moved off a dead host, as a Swarm user would check with `shoal service ps` and `docker ps`.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { SHOAL_BIN, type ShoalProcess } from "./support/shoal-process.js";
import { TestControl } from "./support/control-client.js";
import { waitUntil } from "./support/wait.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { joinTokens } from "./support/join-tokens.js";
import { spawnAgent, startAgents, type AgentOptions, type ReadyOptions } from "./support/agents.js";

const run = promisify(execFile);
let harness: Harness;
let root = "";
const managers: ShoalProcess[] = [];
const addrs: string[] = [];
const control = new TestControl();
let workerToken = "";

interface TaskRow {
  id: string;
  health?: string;
  slot: number;
  node: string;
  nodeId: string;
  desiredState: string;
  state: string;
  message: string;
  error: string;
  containerId: string;
}

async function shoal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env, SHOAL_MANAGER: addrs.join(",") };
    return { code: 0, ...(await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 60_000, env })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function ps(service: string): Promise<TaskRow[]> {
  const out = await shoal("service", "ps", service, "--json");
  if (out.code !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as TaskRow[];
}

/** Running tasks of a service per host name. */
async function runningPerHost(service: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of await ps(service))
    if (t.desiredState === "running" && t.state === "running") counts[t.node] = (counts[t.node] ?? 0) + 1;
  return counts;
}

/** Containers of a service running on a host, as its own dockerd says. */
async function containersOn(host: Host, service: string): Promise<string[]> {
  const out = await host.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${service}`]);
  return out.stdout.split("\n").filter(Boolean);
}

/** How the agents of this suite start: given every manager, with the worker token. */
const agentOptions = (): AgentOptions & ReadyOptions => ({ control, managers: addrs, token: workerToken });

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3", "h4"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-sched-"));
  for (const m of await startManagerCluster({
    count: 3,
    root,
    control,
    addr: (i) => `${harness.gateway}:${4700 + i}`,
  })) {
    managers.push(m.proc);
    addrs.push(m.addr);
  }
  workerToken = (await joinTokens(control, addrs[0]!)).worker;
  // h4 joins later, in the global service test.
  await startAgents(harness.hosts.slice(0, 3), agentOptions());
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("scheduling on three agent hosts", () => {
  it("spreads a 6-replica service 2/2/2 and runs it on the hosts' dockerds", async () => {
    const out = await shoal(
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "6",
      // `sleep` as PID 1 ignores SIGTERM: every task stopped (scaled down) would wait out the
      // default 10 s grace before its SIGKILL.
      "--stop-grace-period",
      "1s",
      // A killed task's successor starts after 1 s, not the default 5 s.
      "--restart-delay",
      "1s",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(out.code).toBe(0);
    expect(out.stderr).toContain("verify: Service converged");
    expect(await runningPerHost("web")).toEqual({ h1: 2, h2: 2, h3: 2 });
    for (const host of harness.hosts.slice(0, 3)) expect(await containersOn(host, "web")).toHaveLength(2);
    const ls = JSON.parse((await shoal("service", "ls", "--json")).stdout) as { name: string; replicas: unknown }[];
    expect(ls.find((s) => s.name === "web")?.replicas).toEqual({ running: 6, desired: 6 });
  });

  it("scales up to 9 (3 per host) and down to 2", async () => {
    expect((await shoal("service", "scale", "web=9")).code).toBe(0);
    expect(await runningPerHost("web")).toEqual({ h1: 3, h2: 3, h3: 3 });
    expect((await shoal("service", "scale", "web=2")).code).toBe(0);
    await expect
      .poll(async () => Object.values(await runningPerHost("web")).reduce((a, b) => a + b, 0), { timeout: 30_000 })
      .toBe(2);
    await expect
      .poll(async () => (await Promise.all(harness.hosts.map((h) => containersOn(h, "web")))).flat().length, {
        timeout: 30_000,
      })
      .toBe(2);
  });

  it("replaces a container killed with docker kill", async () => {
    const before = (await ps("web")).filter((t) => t.state === "running" && t.desiredState === "running");
    const victim = before[0]!;
    const host = harness.host(victim.node);
    await host.docker(["kill", victim.containerId]);
    // First the agent reports the kill, then (after the restart delay) a new task runs in the slot.
    await expect
      .poll(async () => (await ps("web")).find((t) => t.id === victim.id)?.state, { timeout: 15_000 })
      .toBe("failed");
    await expect
      .poll(async () => (await ps("web")).filter((t) => t.slot === victim.slot && t.state === "running").length, {
        timeout: 30_000,
      })
      .toBe(1);
    const after = await ps("web");
    expect(after.find((t) => t.id === victim.id)?.state).toBe("failed");
    expect(after.filter((t) => t.slot === victim.slot && t.state === "running")).toHaveLength(1);
  });

  it("leaves a task that fits no node pending, with the reason", async () => {
    const out = await shoal(
      "service",
      "create",
      "-d",
      "--name",
      "nowhere",
      "--constraint",
      "node.labels.zone==mars",
      harness.baseImage,
      "sleep",
      "60",
    );
    expect(out.code).toBe(0);
    await expect
      .poll(async () => (await ps("nowhere"))[0]?.error ?? "", { timeout: 15_000 })
      .toMatch(/no suitable node.*constraint/);
    expect((await ps("nowhere"))[0]?.state).toBe("pending");
  });

  it("drains a node: its tasks move to the others", async () => {
    const out = await shoal(
      "service",
      "create",
      "--name",
      "drainme",
      "--replicas",
      "3",
      // `sleep` as PID 1 ignores SIGTERM: the drained tasks would wait out the default 10 s grace.
      "--stop-grace-period",
      "1s",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(out.code).toBe(0);
    expect((await shoal("node", "update", "--availability", "drain", "h1")).code).toBe(0);
    await expect.poll(() => runningPerHost("drainme"), { timeout: 30_000 }).not.toHaveProperty("h1");
    await expect
      .poll(async () => Object.values(await runningPerHost("drainme")).reduce((a, b) => a + b, 0), { timeout: 30_000 })
      .toBe(3);
    await expect.poll(() => containersOn(harness.host("h1"), "drainme"), { timeout: 30_000 }).toEqual([]);
    expect((await shoal("node", "update", "--availability", "active", "h1")).code).toBe(0);
  });

  it("moves the tasks of a dead host elsewhere, and leaves no duplicate when it comes back", async () => {
    const out = await shoal(
      "service",
      "create",
      "--name",
      "survivor",
      "--replicas",
      "3",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(out.code).toBe(0);
    const h3 = harness.host("h3");
    expect(await containersOn(h3, "survivor")).toHaveLength(1);
    await h3.kill(); // agent, dockerd and containers die with the host
    await expect
      .poll(
        async () => {
          const r = await runningPerHost("survivor");
          return (r["h1"] ?? 0) + (r["h2"] ?? 0);
        },
        { timeout: 40_000 },
      )
      .toBe(3);
    await h3.startDocker();
    await startAgents([h3], agentOptions());
    // The agent stops the container it no longer holds; 3 run in all, one per slot.
    await expect.poll(() => containersOn(h3, "survivor"), { timeout: 30_000 }).toEqual([]);
    const rows = (await ps("survivor")).filter((t) => t.state === "running");
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((t) => t.slot)).size).toBe(3);
  });

  it("reports a healthy task as running and healthy, and replaces one whose health check fails", async () => {
    const ok = await shoal(
      "service",
      "create",
      "--name",
      "healthy",
      "--health-cmd",
      "true",
      "--health-interval",
      "1s",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(ok.code).toBe(0);
    await expect
      .poll(async () => (await ps("healthy")).map((t) => [t.state, t.health ?? ""]), { timeout: 30_000 })
      .toEqual([["running", "healthy"]]);

    const bad = await shoal(
      "service",
      "create",
      "-d",
      "--name",
      "sick",
      "--health-cmd",
      "false",
      "--health-interval",
      "1s",
      "--health-retries",
      "1",
      "--restart-delay",
      "1s",
      "--stop-grace-period",
      "1s",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(bad.code).toBe(0);
    // Unhealthy: the task fails, its container is stopped, and a new task takes the slot.
    await expect
      .poll(
        async () => {
          const tasks = await ps("sick");
          return tasks.some((t) => t.state === "failed") && tasks.length >= 2;
        },
        { timeout: 40_000, interval: 500 },
      )
      .toBe(true);
    const failed = (await ps("sick")).find((t) => t.state === "failed")!;
    expect(failed.error).toContain("unhealthy");
    expect(failed.desiredState).toBe("shutdown");
    // Never two live tasks for the slot.
    expect((await ps("sick")).filter((t) => t.desiredState === "running").length).toBeLessThanOrEqual(1);
  });

  it("runs a global service once on every node, including one that joins later", async () => {
    const out = await shoal(
      "service",
      "create",
      "--name",
      "agent-everywhere",
      "--mode",
      "global",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(out.code).toBe(0);
    await expect.poll(() => runningPerHost("agent-everywhere"), { timeout: 30_000 }).toEqual({ h1: 1, h2: 1, h3: 1 });
    spawnAgent(harness.host("h4"), agentOptions());
    await expect
      .poll(() => runningPerHost("agent-everywhere"), { timeout: 30_000 })
      .toEqual({ h1: 1, h2: 1, h3: 1, h4: 1 });
    expect(await containersOn(harness.host("h4"), "agent-everywhere")).toHaveLength(1);
  });

  it("never restarts or moves a running task when the leader manager dies", async () => {
    const running = (await ps("web")).filter((t) => t.desiredState === "running" && t.state === "running");
    expect(running.length).toBeGreaterThan(0);
    let leaderIndex = -1;
    for (let i = 0; i < managers.length; i++) {
      if (!managers[i]!.running) continue;
      const info = await control.call(addrs[i]!, "getInfo", {}, 1000).catch(() => undefined);
      if (info?.isLeader) leaderIndex = i;
    }
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    await managers[leaderIndex]!.kill("SIGKILL");
    const others = addrs.filter((_, i) => i !== leaderIndex);
    await waitUntil("a new leader", async () => {
      for (const a of others)
        if ((await control.call(a, "getInfo", {}, 500).catch(() => undefined))?.isLeader) return true;
      return false;
    });
    // Past the new leader's grace time for agents to come back (3 heartbeats + 2 s).
    await new Promise((r) => setTimeout(r, 7000));
    const after = (await ps("web")).filter((t) => t.desiredState === "running");
    expect(after.map((t) => [t.id, t.containerId, t.state]).sort()).toEqual(
      running.map((t) => [t.id, t.containerId, t.state]).sort(),
    );
    const nodes = JSON.parse((await shoal("node", "ls", "--json")).stdout) as {
      hostname: string;
      status: string;
      role: string;
    }[];
    // The agents' nodes (the managers here are nodes with no agent beside them).
    expect(
      nodes
        .filter((n) => n.status === "ready" && n.role === "worker")
        .map((n) => n.hostname)
        .sort(),
    ).toEqual(["h1", "h2", "h3", "h4"]);
    managers[leaderIndex]!.start(); // back as a follower, for what follows
  });
});
