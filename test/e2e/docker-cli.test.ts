// The stock docker CLI (and dockerode) drive Shoal through a manager's Docker Engine API: three
// managers (the API served by a follower, so writes are forwarded to the leader) and two agent
// hosts with their own dockerd. Each command's output and exit code is checked as a Swarm user
// would see them.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./harness/index.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { startAgents } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, type ShoalProcess } from "./support/shoal-process.js";

const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
const COMPOSE = fileURLToPath(new URL("./docker-cli/compose.yml", import.meta.url));

let harness: Harness;
let root = "";
const managers: ShoalProcess[] = [];
const control = new TestControl();
let dockerHost = "";
let image = "";
let image2 = "";
let repo = "";
let managerAddrs: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The docker CLI's settings for the manager's Docker API: mutual TLS with the test's client certificate. */
function dockerEnv(): Record<string, string> {
  return {
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  };
}

function docker(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      DOCKER,
      args,
      { timeout: timeoutMs, env: { ...process.env, ...dockerEnv(), ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await docker(args, env);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `docker service ls` rows as NAME -> REPLICAS. */
async function replicas(): Promise<Record<string, string>> {
  const out = await ok(["service", "ls", "--format", "{{.Name}} {{.Replicas}}"]);
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]),
  );
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-docker-cli-"));
  image = harness.baseImage;
  repo = image.slice(0, image.lastIndexOf(":"));
  image2 = await harness.pushImage("shoal-base:1", "shoal-base:2");
  for (const m of await startManagerCluster({
    count: 3,
    root,
    control,
    addr: (i) => `${harness.gateway}:${4750 + i}`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  })) {
    managers.push(m.proc);
  }
  const addrs = [0, 1, 2].map((i) => `${harness.gateway}:${4750 + i}`);
  managerAddrs = addrs;
  // A follower serves the API the CLI talks to: its writes go to the leader.
  const info = await control.call(addrs[0]!, "getInfo", {});
  const leader = info.raft!.members.findIndex((m) => m.leader);
  const follower = leader === 1 ? 2 : 1;
  dockerHost = `tcp://${await dockerApiAddress(join(root, `m${follower}.log`))}`;
  const token = (await joinTokens(control, addrs[0]!)).worker;
  await startAgents(harness.hosts, { control, managers: addrs, token });
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("the docker CLI against Shoal", () => {
  it("docker version and info show a swarm manager at API 1.41", async () => {
    const version = await docker(["version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toContain("Server: Shoal");
    expect(version.stdout).toMatch(/API version:\s+1\.41 \(minimum version 1\.24\)/);
    const info = await docker(["info"]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain("Swarm: active");
    expect(info.stdout).toContain("Is Manager: true");
    expect(info.stdout).toMatch(/Managers: 3\n/);
    expect(info.stdout).toMatch(/Nodes: 5\n/);
    expect(info.stdout.match(/^ {3}\S+:\d+$/gm)).toHaveLength(3);
  });

  it("node ls, inspect, update (availability, labels) and rm", async () => {
    const ls = await ok(["node", "ls"]);
    expect(ls).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY/);
    expect(ls).toMatch(/^\w{25}\s+h1\s+Ready\s+Active\s/m);
    expect(ls).toMatch(/^\w{25}\s+h2\s+Ready\s+Active\s/m);
    const [node] = JSON.parse(await ok(["node", "inspect", "h1"])) as { Description: { Hostname: string } }[];
    expect(node!.Description.Hostname).toBe("h1");

    expect((await docker(["node", "update", "--availability", "drain", "h2"])).code).toBe(0);
    expect(await ok(["node", "ls", "--format", "{{.Hostname}} {{.Availability}}"])).toContain("h2 Drain");
    await ok(["node", "update", "--availability", "active", "--label-add", "role=front", "--label-add", "x=1", "h2"]);
    await ok(["node", "update", "--label-rm", "x", "h2"]);
    expect(await ok(["node", "inspect", "h2", "--format", "{{json .Spec}}"])).toBe(
      '{"Labels":{"role":"front"},"Role":"worker","Availability":"active"}\n',
    );
    expect(await ok(["node", "inspect", "--pretty", "h1"])).toMatch(/Hostname:\s+h1/);

    const missing = await docker(["node", "rm", "nosuch"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("node nosuch not found");
    const live = await docker(["node", "rm", "h1"]);
    expect(live.code).toBe(1);
    expect(live.stderr).toContain("is not down and cannot be removed");
  });

  it("service create waits for convergence with the CLI's progress display", async () => {
    const out = await docker([
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "2",
      "--env",
      "A=1",
      "--label",
      "team=x",
      "--container-label",
      "cl=1",
      "--constraint",
      "node.role==worker",
      "--limit-memory",
      "64M",
      "--reserve-cpu",
      "0.1",
      "--restart-condition",
      "on-failure",
      "--publish",
      "mode=host,target=8080,published=18081",
      "--health-cmd",
      "true",
      "--health-interval",
      "1s",
      "--update-monitor",
      "1s",
      image,
      "sleep",
      "3600",
    ]);
    expect(out.stderr).toContain("could not be accessed on a registry to record");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/overall progress: 2 out of 2 tasks/);
    expect(out.stdout).toMatch(/verify: Service \w+ converged/);

    const lg = await docker([
      "service",
      "create",
      "-d",
      "--name",
      "lg",
      "--replicas",
      "2",
      image,
      "sh",
      "-c",
      "trap 'exit 0' TERM; i=0; while true; do echo hello $i; echo err $i >&2; i=$((i+1)); sleep 0.3; done",
    ]);
    expect(lg.code).toBe(0);
    expect(lg.stdout).toMatch(/^\w{25}\n$/);

    const dup = await docker(["service", "create", "-d", "--name", "web", image]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('service name "web" is taken');
  });

  it("service ls, ps and inspect [--pretty]", async () => {
    await expect.poll(replicas, { timeout: 30_000 }).toEqual({ lg: "2/2", web: "2/2" });
    const ls = await ok(["service", "ls"]);
    expect(ls).toMatch(new RegExp(`^\\w{12}\\s+web\\s+replicated\\s+2/2\\s+${image.replace(/[.]/g, "\\.")}\\s`, "m"));
    const ps = (
      await ok(["service", "ps", "web", "--format", "{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}}"])
    )
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(ps).toHaveLength(2);
    expect(ps[0]).toMatch(/^web\.1 h[12] Running Running/);
    expect(ps.map((l) => l.split(" ")[1]).sort()).toEqual(["h1", "h2"]);

    const [svc] = JSON.parse(await ok(["service", "inspect", "web"])) as {
      ID: string;
      Version: { Index: number };
      CreatedAt: string;
      Spec: {
        Labels: Record<string, string>;
        TaskTemplate: { ContainerSpec: { Env: string[]; StopGracePeriod: number }; Resources: unknown };
        EndpointSpec: { Ports: unknown[] };
      };
    }[];
    expect(svc!.Version.Index).toBeGreaterThan(0);
    expect(Date.parse(svc!.CreatedAt)).toBeGreaterThan(0);
    expect(svc!.Spec.Labels).toEqual({ team: "x" });
    expect(svc!.Spec.TaskTemplate.ContainerSpec.Env).toEqual(["A=1"]);
    expect(svc!.Spec.TaskTemplate.ContainerSpec.StopGracePeriod).toBe(10_000_000_000);
    expect(svc!.Spec.TaskTemplate.Resources).toEqual({
      Limits: { MemoryBytes: 67_108_864 },
      Reservations: { NanoCPUs: 100_000_000 },
    });
    expect(svc!.Spec.EndpointSpec.Ports).toEqual([
      { Protocol: "tcp", TargetPort: 8080, PublishedPort: 18081, PublishMode: "host" },
    ]);
    const pretty = await ok(["service", "inspect", "--pretty", "web"]);
    expect(pretty).toMatch(/Name:\s+web/);
    expect(pretty).toMatch(/Replicas:\s+2/);

    const missing = await docker(["service", "inspect", "nosuch"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such service: nosuch");
  });

  it("service scale, update (image, env, replicas, force, update flags) and rollback", async () => {
    expect((await docker(["service", "scale", "-d", "lg=3"])).code).toBe(0);
    await expect.poll(async () => (await replicas())["lg"], { timeout: 30_000 }).toBe("3/3");
    const refused = await docker(["service", "scale", "nosuch=2"]);
    expect(refused.code).toBe(1);

    const before = JSON.parse(await ok(["service", "inspect", "web", "--format", "{{json .Version.Index}}"])) as number;
    const upd = await docker([
      "service",
      "update",
      "-d",
      "--image",
      image2,
      "--env-add",
      "X=1",
      "--update-parallelism",
      "2",
      "--update-delay",
      "1s",
      "web",
    ]);
    expect(upd.code).toBe(0);
    expect(upd.stdout).toBe("web\n");
    const inspect = async (): Promise<{
      Version: { Index: number };
      Spec: {
        TaskTemplate: { ContainerSpec: { Image: string; Env: string[] }; ForceUpdate: number };
        UpdateConfig: { Parallelism: number; Delay: number };
        Mode: { Replicated: { Replicas: number } };
      };
      PreviousSpec?: { TaskTemplate: { ContainerSpec: { Image: string } } };
    }> => (JSON.parse(await ok(["service", "inspect", "web"])) as never[])[0]!;
    let svc = await inspect();
    expect(svc.Version.Index).toBeGreaterThan(before);
    expect(svc.Spec.TaskTemplate.ContainerSpec.Image).toBe(image2);
    expect([...svc.Spec.TaskTemplate.ContainerSpec.Env].sort()).toEqual(["A=1", "X=1"]);
    expect(svc.Spec.UpdateConfig).toMatchObject({ Parallelism: 2, Delay: 1_000_000_000 });
    expect(svc.PreviousSpec?.TaskTemplate.ContainerSpec.Image).toBe(image);

    await ok(["service", "update", "-d", "--force", "web"]);
    svc = await inspect();
    expect(svc.Spec.TaskTemplate.ForceUpdate).toBe(1);

    await ok(["service", "update", "-d", "--replicas", "1", "lg"]);
    await expect.poll(async () => (await replicas())["lg"], { timeout: 30_000 }).toBe("1/1");

    const rb = await docker(["service", "rollback", "-d", "web"]);
    expect(rb.code).toBe(0);
    svc = await inspect();
    expect(svc.Spec.TaskTemplate.ContainerSpec.Image).toBe(image2);
    expect(svc.Spec.TaskTemplate.ForceUpdate).toBe(0);
  });

  it("service logs: --tail, --timestamps, ordered across tasks, and --follow", async () => {
    await ok(["service", "scale", "-d", "lg=2"]);
    await expect.poll(async () => (await replicas())["lg"], { timeout: 30_000 }).toBe("2/2");
    await new Promise((r) => setTimeout(r, 1500));
    const out = await docker(["service", "logs", "--tail", "3", "--timestamps", "lg"]);
    expect(out.code).toBe(0);
    const lines = out.stdout.split("\n").filter(Boolean);
    const err = out.stderr.split("\n").filter((l) => l.includes(" err "));
    // --tail counts a container's lines of both streams: 3 per container, the two running ones
    // and those of tasks ended by the scaling above.
    expect((lines.length + err.length) % 3).toBe(0);
    expect(lines.length + err.length).toBeGreaterThanOrEqual(6);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^\S+Z lg\.\d\.\w+@h[12]\s+\| hello \d+$/);
    const times = lines.map((l) => l.slice(0, l.indexOf(" ")));
    expect([...times].sort()).toEqual(times);

    const follow = spawn(DOCKER, ["service", "logs", "-f", "--tail", "0", "lg"], {
      env: { ...process.env, ...dockerEnv() },
    });
    let followed = "";
    follow.stdout.on("data", (d: Buffer) => (followed += d.toString()));
    // New lines of both running tasks come as they are written.
    await expect
      .poll(() => new Set(followed.match(/lg\.\d\.\w+@h\d/g) ?? []).size, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect(follow.exitCode).toBeNull();
    follow.kill("SIGINT");

    // shoal service logs takes the same path.
    const shoalLogs = await new Promise<Result>((resolve) =>
      execFile(
        process.execPath,
        [SHOAL_BIN, "service", "logs", "--tail", "2", "--timestamps", "lg", "--manager", managerAddrs.join(",")],
        { timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(shoalLogs.code).toBe(0);
    const shoalLines = shoalLogs.stdout.split("\n").filter(Boolean);
    expect(shoalLines.length).toBeGreaterThanOrEqual(2);
    for (const l of shoalLines) expect(l).toMatch(/^\S+Z lg\.\d\.\w{12}@h[12]\s+\| hello \d+$/);
    const shoalTimes = shoalLines.map((l) => l.slice(0, l.indexOf(" ")));
    expect([...shoalTimes].sort()).toEqual(shoalTimes);
    expect(shoalLogs.stderr).toMatch(/\| err \d+/);

    const missing = await docker(["service", "logs", "nosuch"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such task or service: nosuch");
  });

  it("stack deploy creates, redeploys with a changed image, and stack rm removes", async () => {
    const env = { IMAGE: repo, TAG: "1" };
    const deploy = await docker(["stack", "deploy", "-c", COMPOSE, "stk"], env);
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toContain("Creating network stk_backend");
    expect(deploy.stdout).toContain("Creating service stk_web");
    expect(deploy.stdout).toContain("Creating service stk_worker");
    expect(await ok(["stack", "ls"])).toMatch(/^stk\s+2\s*$/m);
    await expect
      .poll(async () => (await ok(["stack", "services", "stk", "--format", "{{.Name}} {{.Replicas}}"])).trim(), {
        timeout: 30_000,
      })
      .toBe("stk_web 1/2\nstk_worker 2/2");
    // Only h2 has role=front, and the host port allows one task there: the other waits, and says why.
    const ps = await ok(["stack", "ps", "stk", "--format", "{{.Name}} {{.CurrentState}} {{.Error}}"]);
    expect(ps).toMatch(/stk_web\.\d Pending .*no suitable node/);
    const networks = await ok(["network", "ls", "--format", "{{.Name}} {{.Scope}}"]);
    expect(networks).toContain("stk_backend swarm");

    const redeploy = await docker(["stack", "deploy", "-c", COMPOSE, "stk"], { ...env, TAG: "2" });
    expect(redeploy.code).toBe(0);
    expect(redeploy.stdout).toContain("Updating service stk_web");
    const spec = JSON.parse(await ok(["service", "inspect", "stk_web", "--format", "{{json .Spec}}"])) as {
      TaskTemplate: { ContainerSpec: { Image: string; Env: string[] }; Networks: unknown };
      Labels: Record<string, string>;
    };
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe(image2);
    expect(spec.TaskTemplate.ContainerSpec.Env).toEqual(["MODE=prod"]);
    const backendId = (await ok(["network", "inspect", "stk_backend", "--format", "{{.Id}}"])).trim();
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: backendId, Aliases: ["web"] }]);
    expect(spec.Labels["com.docker.stack.namespace"]).toBe("stk");

    const rmOut = await docker(["stack", "rm", "stk"]);
    expect(rmOut.code).toBe(0);
    expect(rmOut.stdout).toContain("Removing service stk_web");
    expect(rmOut.stdout).toContain("Removing network stk_backend");
    expect(await ok(["stack", "ls", "--format", "{{.Name}}"])).toBe("");
    // Only the cluster's own ingress network is left.
    expect(await ok(["network", "ls", "--format", "{{.Name}}"])).toBe("ingress\n");
  });

  it("network create, ls, inspect and rm; an overlapping subnet is refused", async () => {
    const made = await docker([
      "network",
      "create",
      "-d",
      "overlay",
      "--subnet",
      "10.77.0.0/24",
      "--label",
      "a=b",
      "netA",
    ]);
    expect(made.code).toBe(0);
    const id = made.stdout.trim();
    expect(
      await ok(["network", "ls", "--filter", "name=netA", "--format", "{{.ID}} {{.Name}} {{.Driver}} {{.Scope}}"]),
    ).toBe(`${id.slice(0, 12)} netA overlay swarm\n`);
    const [shown] = JSON.parse(await ok(["network", "inspect", "netA"])) as {
      Id: string;
      IPAM: { Config: { Subnet: string; Gateway: string }[] };
      Options: Record<string, string>;
      Labels: Record<string, string>;
    }[];
    expect(shown).toMatchObject({
      Id: id,
      IPAM: { Config: [{ Subnet: "10.77.0.0/24", Gateway: "10.77.0.1" }] },
      Labels: { a: "b" },
    });
    expect(Number(shown!.Options["com.docker.network.driver.overlay.vxlanid_list"])).toBeGreaterThanOrEqual(4096);
    const overlap = await docker(["network", "create", "-d", "overlay", "--subnet", "10.77.0.128/25", "netB"]);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toContain("overlaps subnet 10.77.0.0/24 of network netA");
    expect(await ok(["network", "rm", "netA"])).toBe("netA\n");
    const gone = await docker(["network", "inspect", "netA"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/network netA not found/i);
  });

  // Needs the allocator (service networks are refused until it resolves names and allocates VIPs).
  it("a service on a network shows its virtual IP, and the network in use cannot be removed", async () => {
    await ok(["network", "create", "-d", "overlay", "netS"]);
    const netId = (await ok(["network", "inspect", "netS", "--format", "{{.Id}}"])).trim();
    await ok(["service", "create", "-d", "--name", "vipsvc", "--network", "netS", image, "sleep", "3600"]);
    await expect
      .poll(
        async () => (await ok(["service", "inspect", "vipsvc", "--format", "{{json .Endpoint.VirtualIPs}}"])).trim(),
        {
          timeout: 20_000,
        },
      )
      .toMatch(new RegExp(`^\\[\\{"NetworkID":"${netId}","Addr":"10\\.0\\.\\d+\\.\\d+/24"\\}\\]$`));
    const inUse = await docker(["network", "rm", "netS"]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain("network netS is in use by service vipsvc");
    await ok(["service", "rm", "vipsvc"]);
    expect(await ok(["network", "rm", "netS"])).toBe("netS\n");
  });

  it("dockerode lists, creates, updates and removes services, and lists tasks and nodes", async () => {
    const url = new URL(dockerHost.replace("tcp:", "https:"));
    const certs = testClientCertDir();
    const client = new Docker({
      protocol: "https",
      host: url.hostname,
      port: Number(url.port),
      version: "v1.41",
      ca: await readFile(join(certs, "ca.pem")),
      cert: await readFile(join(certs, "cert.pem")),
      key: await readFile(join(certs, "key.pem")),
    });
    const nodes = await client.listNodes();
    // The agents' nodes (h1, h2), and the three managers', no agent beside them (hosts by address).
    const workers = nodes.filter((n) => n.Spec?.Role === "worker");
    expect(workers.map((n) => n.Description?.Hostname).sort()).toEqual(["h1", "h2"]);
    expect(nodes.filter((n) => n.Spec?.Role === "manager")).toHaveLength(3);
    const created = await client.createService({
      Name: "sdk",
      TaskTemplate: { ContainerSpec: { Image: image, Args: ["sleep", "3600"] } },
      Mode: { Replicated: { Replicas: 1 } },
    });
    const service = client.getService(created.id as string);
    const info = await service.inspect();
    await service.update({ version: info.Version.Index, ...info.Spec, Mode: { Replicated: { Replicas: 2 } } });
    expect((await service.inspect()).Spec.Mode.Replicated.Replicas).toBe(2);
    const stale = await service
      .update({ version: info.Version.Index, ...info.Spec })
      .then(() => 200)
      .catch((e: { statusCode: number }) => e.statusCode);
    expect(stale).toBe(409);
    const names = (await client.listServices({ filters: { name: ["sdk"] } })).map((s) => s.Spec?.Name);
    expect(names).toEqual(["sdk"]);
    await expect
      .poll(
        async () => (await client.listTasks({ filters: { service: ["sdk"], "desired-state": ["running"] } })).length,
        {
          timeout: 20_000,
        },
      )
      .toBe(2);
    await service.remove();
    expect((await client.listServices()).map((s) => s.Spec?.Name).sort()).toEqual(["lg", "web"]);
  });

  it("service rm removes services by name", async () => {
    const out = await docker(["service", "rm", "web", "lg"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("web\nlg\n");
    expect(await ok(["service", "ls", "-q"])).toBe("");
    const missing = await docker(["service", "rm", "nosuch"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("service nosuch not found");
  });
});
