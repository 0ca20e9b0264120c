// Mounts on a real host through a manager: one manager (with the Docker API) and one agent host
// with its own dockerd, so that every task of a service lands on the same node. A service made
// with `shoal service create --mount` writes to a named volume, its task's container is killed,
// and the task that replaces it reads what the first one wrote; a bind source missing on the node
// is a clear task error; a relative one is refused before anything is made; and the stock docker
// CLI's `docker stack deploy` of a compose file with a top-level volume converges, the volume
// created on the node with the stack's labels, a `docker service update --mount-add` rolls out
// with the volume's data kept, and the volume is kept after `docker stack rm`.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { startAgents } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
const COMPOSE = fileURLToPath(new URL("./mounts/compose.yml", import.meta.url));
let harness: Harness;
let host: Host;
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let dockerHost = "";
let nodeId = "";
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

const docker = (args: string[], env: Record<string, string> = {}): Promise<Out> =>
  exec(DOCKER, args, {
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
    ...env,
  });

async function tasksOf(name: string): Promise<Task[]> {
  const { service } = await control.call(addr, "getService", { serviceId: name });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(addr, "listTasks", { filters })).tasks;
}

/** The ids of the service's running containers on the host. */
async function runningContainers(service: string): Promise<string[]> {
  const out = await host.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${service}`]);
  return out.stdout.split("\n").filter(Boolean);
}

/** The one running container of the service, once there is exactly one (and it is not `other`). */
async function theContainer(service: string, other = ""): Promise<string> {
  let id = "";
  await waitUntil(
    `one running container of ${service}`,
    async () => {
      const ids = await runningContainers(service);
      id = ids.length === 1 && !other.startsWith(ids[0]!) ? ids[0]! : "";
      return id !== "";
    },
    60_000,
  );
  return id;
}

async function volumeLabels(name: string): Promise<Record<string, string>> {
  const out = await host.docker(["volume", "inspect", "--format", "{{json .Labels}}", name]);
  return JSON.parse(out.stdout) as Record<string, string>;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1"], pullBaseImage: true });
  host = harness.hosts[0]!;
  root = await mkdtemp(join(tmpdir(), "shoal-mounts-"));
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
  const token = (await joinTokens(control, addr)).worker;
  await startAgents([host], { control, managers: [addr], token });
  const { nodes } = await control.call(addr, "listNodes", { filters: undefined });
  nodeId = nodes.find((n) => n.description?.hostname === host.name)!.id;
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("mounts through a manager", () => {
  it("keeps a named volume's data for the task that replaces a killed one on the same node", async () => {
    const created = await shoal(
      "service",
      "create",
      "--name",
      "vol",
      "--restart-delay",
      "1s",
      // `sh` as PID 1 ignores SIGTERM: `service rm` would wait out the default 10 s grace.
      "--stop-grace-period",
      "1s",
      "--mount",
      "type=volume,source=vdata,target=/data,volume-label=team=blue",
      "--mount",
      "type=tmpfs,target=/scratch,tmpfs-size=1m,tmpfs-mode=700",
      harness.baseImage,
      "sh",
      "-c",
      "hostname >> /data/log; sleep 3600",
    );
    expect(created.stderr).toContain("verify: Service converged");
    expect(created.code).toBe(0);
    const pretty = await shoal("service", "inspect", "--pretty", "vol");
    expect(pretty.stdout).toContain(
      "Mounts:\n Target:\t/data\n  Source:\tvdata\n  ReadOnly:\tfalse\n  Type:\t\tvolume\n",
    );

    const first = await theContainer("vol");
    expect(await volumeLabels("vdata")).toEqual({ team: "blue" });
    const tmpfs = await host.docker(["exec", first, "sh", "-c", "stat -c %a /scratch; grep ' /scratch ' /proc/mounts"]);
    expect(tmpfs.stdout).toMatch(/^700\ntmpfs \/scratch tmpfs \S*size=1024k,mode=700/);

    await host.docker(["kill", first]);
    const second = await theContainer("vol", first);
    await waitUntil("the new task's line in the volume", async () => {
      const log = await host.docker(["exec", second, "cat", "/data/log"], { check: false });
      return log.stdout.split("\n").filter(Boolean).length === 2;
    });
    const log = (await host.docker(["exec", second, "cat", "/data/log"])).stdout.split("\n").filter(Boolean);
    expect(log).toEqual([first.slice(0, 12), second.slice(0, 12)]);
    const tasks = await tasksOf("vol");
    expect(tasks.filter((t) => t.status?.state === TaskState.FAILED)).toHaveLength(1);
    expect(new Set(tasks.map((t) => t.nodeId))).toEqual(new Set([nodeId]));

    expect((await shoal("service", "rm", "vol")).code).toBe(0);
    await waitUntil("the service's containers gone", async () => (await runningContainers("vol")).length === 0);
    expect(await volumeLabels("vdata")).toEqual({ team: "blue" }); // kept after the service
  });

  it("fails the task of a bind mount whose source the node lacks, saying so, and runs no container", async () => {
    const missing = `/nonexistent-${harness.runId}`;
    const created = await shoal(
      "service",
      "create",
      "--detach",
      "--name",
      "nobind",
      "--mount",
      `type=bind,source=${missing},target=/x,readonly`,
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(created.code).toBe(0);
    const message = `bind source path ${missing} does not exist on node ${nodeId}`;
    await waitUntil("the task rejected with the missing bind source", async () =>
      (await tasksOf("nobind")).some((t) => t.status?.state === TaskState.REJECTED && t.status.err === message),
    );
    const ps = await shoal("service", "ps", "nobind");
    expect(ps.stdout).toContain(message);
    const all = await host.docker(["ps", "-aq", "--filter", "label=com.shoal.service.name=nobind"]);
    expect(all.stdout.trim()).toBe("");
    expect((await shoal("service", "rm", "nobind")).code).toBe(0);
  });

  it("refuses a relative bind source before anything is made, naming the field", async () => {
    const out = await shoal(
      "service",
      "create",
      "--name",
      "relbind",
      "--mount",
      "type=bind,source=data,target=/data",
      harness.baseImage,
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("spec.task_template.container.mounts[0].source");
    expect((await shoal("service", "ls", "-q")).stdout.trim()).toBe("");
  });

  it("docker stack deploy with a top-level volume converges, and the volume outlives the stack", async () => {
    const deploy = await docker(["stack", "deploy", "-c", COMPOSE, "stk"], { IMAGE: harness.baseImage });
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toContain("Creating service stk_db");
    await waitUntil(
      "stk_db 1/1",
      async () =>
        (await docker(["service", "ls", "--format", "{{.Name}} {{.Replicas}}"])).stdout.trim() === "stk_db 1/1",
      60_000,
    );
    const mounts = await docker([
      "service",
      "inspect",
      "--format",
      "{{json .Spec.TaskTemplate.ContainerSpec.Mounts}}",
      "stk_db",
    ]);
    expect(JSON.parse(mounts.stdout)).toEqual([
      {
        Type: "volume",
        Source: "stk_data",
        Target: "/data",
        VolumeOptions: { Labels: { "com.docker.stack.namespace": "stk", tier: "db" } },
      },
      { Type: "tmpfs", Target: "/scratch", TmpfsOptions: { SizeBytes: 1048576 } },
    ]);
    const container = await theContainer("stk_db");
    expect(await volumeLabels("stk_data")).toEqual({ "com.docker.stack.namespace": "stk", tier: "db" });
    expect((await host.docker(["exec", container, "cat", "/data/log"])).stdout).toBe(`${container.slice(0, 12)}\n`);

    // The docker CLI sends the whole spec back with one more mount: a rolling update; the new
    // task finds the volume's data and has the new mount.
    const update = await docker([
      "service",
      "update",
      "--mount-add",
      "type=tmpfs,target=/extra,tmpfs-mode=1770",
      "stk_db",
    ]);
    expect(update.code).toBe(0);
    const mounted = JSON.parse(
      (await docker(["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Mounts}}", "stk_db"]))
        .stdout,
    ) as { Target: string }[];
    // (The docker CLI orders them as its map gives them.)
    expect(mounted.map((m) => m.Target).sort()).toEqual(["/data", "/extra", "/scratch"]);
    const next = await theContainer("stk_db", container);
    const after = await host.docker(["exec", next, "sh", "-c", "cat /data/log; stat -c %a /extra"]);
    expect(after.stdout).toBe(`${container.slice(0, 12)}\n${next.slice(0, 12)}\n1770\n`);

    expect((await docker(["stack", "rm", "stk"])).code).toBe(0);
    await waitUntil("the stack's containers gone", async () => (await runningContainers("stk_db")).length === 0);
    expect(await volumeLabels("stk_data")).toEqual({ "com.docker.stack.namespace": "stk", tier: "db" });
  });
});
