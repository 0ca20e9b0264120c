// Jobs on real hosts: one manager (with the Docker API) and agents on two hosts, a third host's
// agent started later. A replicated job of 10 with max-concurrent 3 completes with never more
// than 3 of its containers running (polled from the hosts' dockerds and from the task states);
// update --force runs it again; a failing job stops after its restart policy's attempts; a global
// job runs once on every node and on a node that joins later; and the stock docker CLI's
// `service create --mode replicated-job` (and `service update --force`) returns once the job
// completed, as against Swarm.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { startAgents } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { sampleWhile } from "./support/sampler.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
let harness: Harness;
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let dockerHost = "";
let token = "";
const control = new TestControl();

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: Record<string, string>): Promise<Out> {
  try {
    return { code: 0, ...(await run(file, args, { timeout: 120_000, env: { ...process.env, ...env } })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const shoal = (...args: string[]): Promise<Out> =>
  exec(process.execPath, [SHOAL_BIN, ...args], { SHOAL_MANAGER: addr });

const docker = (...args: string[]): Promise<Out> =>
  exec(DOCKER, args, {
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  });

async function tasksOf(name: string): Promise<Task[]> {
  const { service } = await control.call(addr, "getService", { serviceId: name });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(addr, "listTasks", { filters })).tasks;
}

/** The service's containers on every host: running ones, or all of them (`ps -a`). */
async function containers(name: string, all = false): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const h of harness.hosts as Host[]) {
    const args = ["ps", "-q", "--filter", `label=com.shoal.service.name=${name}`];
    const out = await h.docker(all ? [...args, "-a"] : args);
    counts.set(h.name, out.stdout.split("\n").filter(Boolean).length);
  }
  return counts;
}

const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const isLive = (t: Task): boolean =>
  t.desiredState <= TaskState.RUNNING && (t.status?.state ?? TaskState.NEW) <= TaskState.RUNNING;

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-jobs-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = m!.addr;
  dockerHost = `tcp://${await dockerApiAddress(join(root, "m0.log"))}`;
  token = (await joinTokens(control, addr)).worker;
  await startAgents(harness.hosts.slice(0, 2), { control, managers: [addr], token });
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("jobs on real hosts", () => {
  it("completes a replicated job of 10 with never more than 3 running at once", async () => {
    let mostLive = 0;
    const s = await sampleWhile(
      async () => {
        const live = (await tasksOf("batch").catch(() => [])).filter(isLive).length;
        mostLive = Math.max(mostLive, live);
        return total(await containers("batch"));
      },
      () =>
        shoal(
          "service",
          "create",
          "--name",
          "batch",
          "--mode",
          "replicated-job",
          "--replicas",
          "10",
          "--max-concurrent",
          "3",
          harness.baseImage,
          "sh",
          "-c",
          "sleep 1",
        ),
      100,
    );
    expect(s.result.stderr).toContain("job complete");
    expect(s.result.code).toBe(0);
    // Measured from the hosts' dockerds and from the task states, all along the run.
    expect(s.max).toBeLessThanOrEqual(3);
    expect(s.max).toBeGreaterThanOrEqual(2);
    expect(mostLive).toBeLessThanOrEqual(3);
    const done = (await tasksOf("batch")).filter((t) => t.status?.state === TaskState.COMPLETE);
    expect(done.map((t) => t.slot).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(total(await containers("batch"))).toBe(0);

    const ls = await shoal("service", "ls");
    expect(ls.stdout).toMatch(/batch\s+replicated job\s+0\/3 \(10\/10 completed\)/);
    const json = JSON.parse((await shoal("service", "ls", "--json")).stdout) as {
      name: string;
      job: { runs: { outcome: string; succeeded: number }[] };
    }[];
    expect(json.find((j) => j.name === "batch")!.job.runs).toMatchObject([{ outcome: "succeeded", succeeded: 10 }]);
    const ps = await shoal("service", "ps", "batch");
    expect(ps.stdout.match(/Complete\s+Complete/g)).toHaveLength(10);
  });

  it("runs the job again on update --force, in its own run", async () => {
    const again = await shoal("service", "update", "--force", "batch");
    expect(again.stderr).toContain("job complete");
    expect(again.code).toBe(0);
    const second = (await tasksOf("batch")).filter((t) => t.jobIteration?.index === 2);
    expect(second.filter((t) => t.status?.state === TaskState.COMPLETE)).toHaveLength(10);
    const inspect = await shoal("service", "inspect", "--pretty", "batch");
    expect(inspect.stdout).toMatch(/Iteration:\s+2/);
    expect(inspect.stdout).toMatch(/ 2: succeeded \(10 completed, 0 failed\)/);
    expect(inspect.stdout).toMatch(/ 1: succeeded \(10 completed, 0 failed\)/);
  });

  it("gives up a failing job after its restart attempts, and says so", async () => {
    const failed = await shoal(
      "service",
      "create",
      "--name",
      "broken",
      "--mode",
      "replicated-job",
      "--replicas",
      "2",
      "--restart-max-attempts",
      "1",
      "--restart-delay",
      "100ms",
      harness.baseImage,
      "sh",
      "-c",
      "exit 3",
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("job run 1 failed");
    const tasks = await tasksOf("broken");
    // Two slots, each tried twice (the first attempt and one restart), every one failed.
    expect(tasks).toHaveLength(4);
    expect(tasks.every((t) => t.status?.state === TaskState.FAILED)).toBe(true);
  });

  it("runs a global job once on every node, and on a node that joins later", async () => {
    const created = await shoal(
      "service",
      "create",
      "--name",
      "setup",
      "--mode",
      "global-job",
      harness.baseImage,
      "true",
    );
    expect(created.stderr).toContain("job complete");
    expect(created.code).toBe(0);
    expect(await containers("setup", true)).toEqual(
      new Map([
        ["h1", 1],
        ["h2", 1],
        ["h3", 0],
      ]),
    );

    await startAgents(harness.hosts.slice(2), { control, managers: [addr], token });
    const { nodes } = await control.call(addr, "listNodes", { filters: undefined });
    const h3 = nodes.find((n) => n.description?.hostname === "h3")!.id;
    await waitUntil("the job to complete on the node that joined", async () =>
      (await tasksOf("setup")).some((t) => t.nodeId === h3 && t.status?.state === TaskState.COMPLETE),
    );
    expect(await containers("setup", true)).toEqual(
      new Map([
        ["h1", 1],
        ["h2", 1],
        ["h3", 1],
      ]),
    );
    expect((await shoal("service", "ls")).stdout).toMatch(/setup\s+global job\s+0\/0 \(3\/3 completed\)/);
  });

  it("the stock docker CLI's service create --mode replicated-job returns once the job completed", async () => {
    const out = await docker(
      "service",
      "create",
      "--name",
      "dj",
      "--mode",
      "replicated-job",
      "--replicas",
      "4",
      "--max-concurrent",
      "2",
      harness.baseImage,
      "sh",
      "-c",
      "sleep 1",
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("job complete");
    const done = (await tasksOf("dj")).filter((t) => t.status?.state === TaskState.COMPLETE);
    expect(done).toHaveLength(4);

    const ls = await docker("service", "ls", "--filter", "name=dj", "--format", "{{.Name}} {{.Mode}} {{.Replicas}}");
    expect(ls.stdout.trim()).toBe("dj replicated job 0/2 (4/4 completed)");
    const ps = await docker("service", "ps", "dj", "--format", "{{.DesiredState}} {{.CurrentState}}");
    expect(
      ps.stdout
        .split("\n")
        .filter(Boolean)
        .every((l) => /^Complete Complete/.test(l)),
    ).toBe(true);
    // docker service update --force runs it again, and waits for that run.
    const again = await docker("service", "update", "--force", "dj");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("job complete");
    const second = (await tasksOf("dj")).filter((t) => t.jobIteration?.index === 2);
    expect(second.filter((t) => t.status?.state === TaskState.COMPLETE)).toHaveLength(4);
    const globalJob = await docker(
      "service",
      "create",
      "--name",
      "dg",
      "--mode",
      "global-job",
      harness.baseImage,
      "true",
    );
    expect(globalJob.code).toBe(0);
    expect(globalJob.stdout).toContain("job complete");
  });
});
