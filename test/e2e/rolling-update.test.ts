// Rolling updates on real hosts: three managers (processes on the harness gateway) and three agent
// hosts with their own dockerd. A 6-replica service is rolled 2 tasks at a time, stop-first then
// start-first, while the hosts' dockerds are polled for running containers; an update to an image
// that does not exist pauses after its first batch; an update whose new tasks turn unhealthy rolls
// back by itself; and a rollout survives a SIGKILL of the leader without restarting finished slots.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { TestControl } from "./support/control-client.js";
import { startAgents } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { sampleWhile } from "./support/sampler.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const SERVICE = "roll";
let harness: Harness;
let root = "";
const managers: ShoalProcess[] = [];
const addrs: string[] = [];
const control = new TestControl();
let serviceId = "";
/** The same busybox image under three names, so that each update changes the image. */
let v1 = "";
let v2 = "";
let v3 = "";

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function shoal(...args: string[]): Promise<Out> {
  try {
    const env = { ...process.env, SHOAL_MANAGER: addrs.join(",") };
    return { code: 0, ...(await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 90_000, env })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Images of the service's running containers on every host, as the hosts' dockerds say. */
async function runningImages(): Promise<string[]> {
  const per = await Promise.all(
    harness.hosts.map((h: Host) =>
      h.docker(["ps", "--filter", `label=com.shoal.service.name=${SERVICE}`, "--format", "{{.Image}}"]),
    ),
  );
  return per.flatMap((r) => r.stdout.split("\n").filter(Boolean));
}

async function tasks(): Promise<Task[]> {
  const filters = { idPrefixes: [], serviceIds: [serviceId], nodeIds: [], desiredStates: [] };
  for (const addr of addrs) {
    const res = await control.call(addr, "listTasks", { filters }, 3000).catch(() => undefined);
    if (res) return res.tasks;
  }
  throw new Error("no manager answered ListTasks");
}

const imageOf = (t: Task): string => t.spec?.container?.image ?? "";
const isRunning = (t: Task): boolean => t.desiredState === TaskState.RUNNING && t.status?.state === TaskState.RUNNING;

/** The update status of the service as `service ls --json` gives it. */
async function updateState(): Promise<string> {
  const out = await shoal("service", "ls", "--json");
  const list = JSON.parse(out.stdout) as { name: string; updateStatus: { state: string } | null }[];
  return list.find((s) => s.name === SERVICE)?.updateStatus?.state ?? "";
}

async function leaderIndex(): Promise<number> {
  let found = -1;
  await waitUntil("a leader", async () => {
    for (let i = 0; i < addrs.length; i++) {
      if (!managers[i]!.running) continue;
      if ((await control.call(addrs[i]!, "getInfo", {}, 500).catch(() => undefined))?.isLeader) found = i;
    }
    return found >= 0;
  });
  return found;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-roll-"));
  v1 = harness.baseImage;
  // One push at a time: two pushes of the same layers at once can race in the registry.
  v2 = await harness.pushImage("shoal-base:1", "shoal-roll:2");
  v3 = await harness.pushImage("shoal-base:1", "shoal-roll:3");
  const addr = async (): Promise<string> => `${harness.gateway}:${await freePort()}`;
  for (const m of await startManagerCluster({ count: 3, root, control, addr })) {
    managers.push(m.proc);
    addrs.push(m.addr);
  }
  const token = (await joinTokens(control, addrs[0]!)).worker;
  await startAgents(harness.hosts, { control, managers: addrs, token });
  const created = await shoal(
    "service",
    "create",
    "--name",
    SERVICE,
    "--replicas",
    "6",
    "--update-parallelism",
    "2",
    "--update-monitor",
    "1s",
    "--rollback-parallelism",
    "2",
    "--rollback-monitor",
    "1s",
    "--stop-grace-period",
    "1s",
    v1,
    "sleep",
    "3600",
  );
  if (created.code !== 0) throw new Error(`service create failed: ${created.stderr}`);
  serviceId = created.stdout.trim();
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("rolling updates on three agent hosts", () => {
  it("rolls 6 replicas 2 at a time stop-first: never fewer than 4 running, nor more than 6", async () => {
    const s = await sampleWhile(
      async () => (await runningImages()).length,
      () => shoal("service", "update", "--image", v2, SERVICE),
    );
    expect(s.result.stderr).toContain("overall progress: 6 out of 6 tasks");
    expect(s.result.stderr).toContain("verify: Service converged");
    expect(s.result.code).toBe(0);
    expect(s.count).toBeGreaterThan(5);
    expect(s.min).toBeGreaterThanOrEqual(4);
    expect(s.max).toBeLessThanOrEqual(6);
    expect((await runningImages()).sort()).toEqual(Array(6).fill(v2));
    expect(await updateState()).toBe("completed");
    expect((await shoal("service", "ls")).stdout).toMatch(
      new RegExp(`\\s${SERVICE}\\s+replicated\\s+6/6\\s+\\S+\\s+completed$`, "m"),
    );
    const pretty = (await shoal("service", "inspect", "--pretty", SERVICE)).stdout;
    expect(pretty).toMatch(
      /UpdateStatus:\n State:\t\tcompleted\n Started:.*\n Completed:.*\n Message:\tupdate completed/,
    );
    expect(pretty).toContain("UpdateConfig:\n Parallelism:\t2\n");
  });

  it("rolls them start-first: never more than 8 running, nor fewer than 6", async () => {
    const s = await sampleWhile(
      async () => (await runningImages()).length,
      () => shoal("service", "update", "--image", v3, "--update-order", "start-first", SERVICE),
    );
    expect(s.result.stderr).toContain("verify: Service converged");
    expect(s.result.code).toBe(0);
    expect(s.max).toBeLessThanOrEqual(8);
    expect(s.max).toBeGreaterThan(6); // it did start first
    expect(s.min).toBeGreaterThanOrEqual(6);
    expect((await runningImages()).sort()).toEqual(Array(6).fill(v3));
  });

  it("pauses after the first batch when the new image does not exist, and rolls back on request", async () => {
    const missing = `${harness.registry}/shoal-missing:1`;
    // Stop-first again (the last update left start-first in the config): the first batch's 2 slots
    // are emptied, their new tasks fail, and the update pauses there.
    const out = await shoal("service", "update", "--image", missing, "--update-order", "stop-first", SERVICE);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/shoal: update paused: .+/);
    expect(await updateState()).toBe("paused");
    // Let a paused update show that it stays paused: only the first batch's 2 slots were touched.
    await new Promise((r) => setTimeout(r, 3000));
    const all = await tasks();
    const touched = new Set(all.filter((t) => imageOf(t) === missing).map((t) => t.slot));
    expect(touched.size).toBe(2);
    const old = all.filter((t) => isRunning(t) && imageOf(t) === v3);
    expect(old).toHaveLength(4);
    expect(old.every((t) => !touched.has(t.slot))).toBe(true);
    expect((await runningImages()).filter((i) => i === v3)).toHaveLength(4);

    const back = await shoal("service", "rollback", SERVICE);
    expect(back.stderr).toContain("verify: Service converged");
    expect(back.code).toBe(0);
    expect(await updateState()).toBe("rollback_completed");
    expect((await runningImages()).sort()).toEqual(Array(6).fill(v3));
  });

  it("rolls back by itself when the new tasks turn unhealthy, every slot running the old image again", async () => {
    const out = await shoal(
      "service",
      "update",
      "--image",
      v2,
      "--health-cmd",
      "false",
      "--health-interval",
      "500ms",
      "--health-retries",
      "1",
      "--update-failure-action",
      "rollback",
      "--update-monitor",
      "5s",
      SERVICE,
    );
    expect(out.stderr).toMatch(/^rollback: /m);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/shoal: service rolled back: .*last failure: container unhealthy/);
    const sick = (await tasks()).filter((t) => imageOf(t) === v2 && t.status?.state === TaskState.FAILED);
    expect(sick.length).toBeGreaterThan(0);
    expect(sick.every((t) => t.status?.err === "container unhealthy")).toBe(true);
    expect(await updateState()).toBe("rollback_completed");
    const inspected = JSON.parse((await shoal("service", "inspect", SERVICE)).stdout) as {
      spec: { taskTemplate: { container: { image: string; healthcheck?: unknown } } };
    }[];
    expect(inspected[0]!.spec.taskTemplate.container.image).toBe(v3);
    expect(inspected[0]!.spec.taskTemplate.container.healthcheck).toBeUndefined();
    await expect.poll(async () => (await runningImages()).sort(), { timeout: 20_000 }).toEqual(Array(6).fill(v3));
    const slots = new Set((await tasks()).filter(isRunning).map((t) => t.slot));
    expect(slots).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });

  it("completes a rollout whose leader is killed in the middle, without restarting finished slots", async () => {
    const out = await shoal("service", "update", "-d", "--image", v1, "--update-delay", "1s", SERVICE);
    expect(out.code).toBe(0);
    // Once the first batch runs the new image, kill the leader.
    let done: Task[] = [];
    await expect
      .poll(
        async () => {
          done = (await tasks()).filter((t) => isRunning(t) && imageOf(t) === v1);
          return done.length;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(6);
    const leader = await leaderIndex();
    await managers[leader]!.kill("SIGKILL");
    await expect.poll(updateState, { timeout: 60_000, interval: 500 }).toBe("completed");
    const after = await tasks();
    expect((await runningImages()).sort()).toEqual(Array(6).fill(v1));
    for (const t of done) {
      const now = after.find((x) => x.id === t.id);
      expect(now && isRunning(now)).toBe(true);
      expect(now?.status?.containerStatus?.containerId).toBe(t.status?.containerStatus?.containerId);
    }
    expect(after.filter(isRunning)).toHaveLength(6);
    // One task per slot on the new spec version: no slot was replaced twice.
    const { service } = await control.call(addrs[(leader + 1) % 3]!, "getService", { serviceId }, 3000);
    const current = after.filter((t) => t.specVersion?.index === service?.specVersion?.index);
    expect(current.map((t) => t.slot).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    managers[leader]!.start();
  });
});
