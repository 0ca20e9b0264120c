// Generic resources on real hosts: one agent host advertises two GPUs by name
// (`--generic-resource gpu=GPU-a --generic-resource gpu=GPU-b`), the other none. A service whose
// tasks reserve one GPU each runs two tasks on the GPU host, each with its own GPU in its
// container's environment, and the third waits with the reason; `docker node inspect` and
// `shoal node inspect` show the node's GPUs.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { startAgents } from "./support/agents.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
let harness: Harness;
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let dockerHost = "";
const control = new TestControl();

interface TaskRow {
  id: string;
  node: string;
  desiredState: string;
  state: string;
  error: string;
  containerId: string;
}

async function shoal(...args: string[]): Promise<string> {
  const env = { ...process.env, SHOAL_MANAGER: addr };
  return (await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 60_000, env })).stdout;
}

/** The stock docker CLI against the manager's Docker API (mutual TLS with the test's client certificate). */
async function docker(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  };
  return (await run(DOCKER, args, { timeout: 60_000, env })).stdout;
}

const host = (name: string): Host => harness.hosts.find((h) => h.name === name)!;

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-generic-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: () => `${harness.gateway}:4793`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = m!.addr;
  await waitUntil("the Docker API address in the manager's log", async () => {
    const found = /"address":"([^"]+)","msg":"serving the Docker Engine API"/.exec(
      await readFile(join(root, "m0.log"), "utf8"),
    );
    dockerHost = found ? `tcp://${found[1]}` : "";
    return dockerHost !== "";
  });
  const token = (await joinTokens(control, addr)).worker;
  const gpus = ["--generic-resource", "gpu=GPU-a", "--generic-resource", "gpu=GPU-b"];
  await startAgents([host("h1")], { control, managers: [addr], token, args: gpus });
  await startAgents([host("h2")], { control, managers: [addr], token });
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("generic resources on agent hosts", () => {
  it("shows the GPUs a node advertises in docker node inspect and shoal node inspect", async () => {
    const resources = JSON.parse(
      await docker("node", "inspect", "h1", "--format", "{{json .Description.Resources}}"),
    ) as {
      GenericResources?: unknown[];
    };
    expect(resources.GenericResources).toEqual([
      { NamedResourceSpec: { Kind: "gpu", Value: "GPU-a" } },
      { NamedResourceSpec: { Kind: "gpu", Value: "GPU-b" } },
    ]);
    const h2 = JSON.parse(await docker("node", "inspect", "h2", "--format", "{{json .Description.Resources}}")) as {
      GenericResources?: unknown[];
    };
    expect(h2.GenericResources).toBeUndefined();
    const [node] = JSON.parse(await shoal("node", "inspect", "h1")) as {
      description: { resources: { generic: unknown[] } };
    }[];
    expect(node!.description.resources.generic).toEqual([
      { named: { kind: "gpu", value: "GPU-a" } },
      { named: { kind: "gpu", value: "GPU-b" } },
    ]);
  });

  it("runs two tasks that reserve a GPU each on the GPU host, each with its own GPU; the third waits", async () => {
    await shoal(
      "service",
      "create",
      "--detach",
      "--name",
      "ml",
      "--replicas",
      "3",
      "--generic-resource",
      "gpu=1",
      // `sleep` as PID 1 ignores SIGTERM: each task the update replaces would wait out the
      // default 10 s grace before its SIGKILL.
      "--stop-grace-period",
      "1s",
      harness.baseImage,
      "sleep",
      "3600",
    );
    let tasks: TaskRow[] = [];
    await waitUntil(
      "two tasks running on h1 and one pending",
      async () => {
        tasks = JSON.parse(await shoal("service", "ps", "ml", "--json")) as TaskRow[];
        const running = tasks.filter((t) => t.state === "running");
        const pending = tasks.filter((t) => t.state === "pending" && t.error !== "");
        return running.length === 2 && pending.length === 1;
      },
      60_000,
    );
    const running = tasks.filter((t) => t.state === "running");
    expect(running.map((t) => t.node)).toEqual(["h1", "h1"]);
    const pending = tasks.find((t) => t.state === "pending")!;
    expect(pending.error).toContain("insufficient generic resource gpu on 2 nodes");

    // Each container has its own GPU, as Swarm hands it over.
    const gpus: string[] = [];
    for (const t of running) {
      const env = JSON.parse(
        (await host("h1").docker(["inspect", "--format", "{{json .Config.Env}}", t.containerId])).stdout,
      ) as string[];
      gpus.push(...env.filter((e) => e.startsWith("DOCKER_RESOURCE_GPU=")));
    }
    expect(gpus.sort()).toEqual(["DOCKER_RESOURCE_GPU=GPU-a", "DOCKER_RESOURCE_GPU=GPU-b"]);
    expect((await host("h2").docker(["ps", "-q", "--filter", "label=com.shoal.service.name=ml"])).stdout.trim()).toBe(
      "",
    );

    // The Docker API shows the reservation, and each task's GPU.
    const spec = JSON.parse(
      await docker("service", "inspect", "ml", "--format", "{{json .Spec.TaskTemplate.Resources.Reservations}}"),
    ) as unknown;
    expect(spec).toEqual({ GenericResources: [{ DiscreteResourceSpec: { Kind: "gpu", Value: 1 } }] });
    const given = await docker(
      "inspect",
      "--type",
      "task",
      "--format",
      "{{json .GenericResources}}",
      ...running.map((t) => t.id),
    );
    expect(given.split("\n").filter(Boolean).sort()).toEqual([
      '[{"NamedResourceSpec":{"Kind":"gpu","Value":"GPU-a"}}]',
      '[{"NamedResourceSpec":{"Kind":"gpu","Value":"GPU-b"}}]',
    ]);
  });

  it("docker service update --generic-resource-rm lets every task run, on both hosts, without a GPU", async () => {
    await docker("service", "update", "--detach", "--generic-resource-rm", "gpu", "ml");
    let tasks: TaskRow[] = [];
    await waitUntil(
      "three tasks running without a GPU",
      async () => {
        tasks = (JSON.parse(await shoal("service", "ps", "ml", "--json")) as TaskRow[]).filter(
          (t) => t.desiredState === "running",
        );
        return tasks.length === 3 && tasks.every((t) => t.state === "running");
      },
      90_000,
    );
    expect(new Set(tasks.map((t) => t.node))).toEqual(new Set(["h1", "h2"]));
    const reservations = await docker(
      "service",
      "inspect",
      "ml",
      "--format",
      "{{json .Spec.TaskTemplate.Resources.Reservations}}",
    );
    expect(reservations.trim()).toBe("{}");
    for (const t of tasks) {
      const env = (await host(t.node).docker(["inspect", "--format", "{{json .Config.Env}}", t.containerId])).stdout;
      expect(env).not.toContain("DOCKER_RESOURCE_");
    }
  });
});
