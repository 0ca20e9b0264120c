// The rest of the container spec end to end on real hosts: one manager (with the Docker API) and
// an agent on h1. `shoal service create` with Docker's flags (--hostname with templates,
// --cap-add, --init, --sysctl, ...) and the stock docker CLI's `docker service create` with the
// same flags, and `docker stack deploy` of a compose file with these options, each give a running
// container that `docker inspect` on h1 shows honouring them; bad input is refused with the field
// named and nothing is created.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { startAgents } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster } from "./support/manager-cluster.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
let harness: Harness;
let h1: Host;
let root = "";
let manager: ShoalProcess | undefined;
let addr = "";
let dockerHost = "";
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

/** The running container of service `name` on h1. */
async function containerOf(name: string): Promise<string> {
  let id = "";
  await waitUntil(`a running container of ${name} on h1`, async () => {
    const out = await h1.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${name}`]);
    id = out.stdout.trim().split("\n")[0] ?? "";
    return id !== "";
  });
  return id;
}

async function inspect(id: string, format: string): Promise<unknown> {
  const out = await h1.docker(["inspect", "--format", `{{json ${format}}}`, id]);
  return JSON.parse(out.stdout) as unknown;
}

async function inside(id: string, script: string): Promise<string> {
  return (await h1.docker(["exec", id, "sh", "-c", script])).stdout.trim();
}

async function serviceNames(): Promise<string[]> {
  const { services } = await control.call(addr, "listServices", { filters: undefined, includeStatus: false });
  return services.map((s) => s.spec?.annotations?.name ?? "");
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1"], pullBaseImage: true });
  h1 = harness.hosts[0]!;
  root = await mkdtemp(join(tmpdir(), "shoal-container-spec-"));
  const [m] = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  manager = m!.proc;
  addr = m!.addr;
  let found = "";
  await waitUntil("the Docker API address in the manager's log", async () => {
    const log = await readFile(join(root, "m0.log"), "utf8");
    found = /"address":"([^"]+)","msg":"serving the Docker Engine API"/.exec(log)?.[1] ?? "";
    return found !== "";
  });
  dockerHost = `tcp://${found}`;
  const token = (await joinTokens(control, addr)).worker;
  await startAgents([h1], { control, managers: [addr], token });
});

afterAll(async () => {
  control.close();
  await manager?.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("the container spec on real hosts", () => {
  it("shoal service create honours Docker's flags, the hostname template expanded on the node", async () => {
    const created = await shoal(
      "service", "create", "--name", "spec",
      "--hostname", "{{.Node.Hostname}}-{{.Task.Slot}}",
      "--env", "WHO={{.Service.Name}}.{{.Task.Slot}}",
      "--group", "1234", "--tty", "--read-only", "--init",
      "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
      "--sysctl", "net.core.somaxconn=1024",
      "--ulimit", "nofile=1024:2048",
      "--host", "db:10.0.0.1",
      "--dns", "10.0.0.53", "--dns-search", "example.org", "--dns-option", "ndots:2",
      "--log-driver", "json-file", "--log-opt", "max-size=1m",
      "--limit-pids", "64",
      // The update below is followed until its new task has run for the monitor period (default 5 s).
      "--update-monitor", "1s",
      harness.baseImage, "sleep", "3600",
    ); // prettier-ignore
    expect(created.stderr).toContain("verify: Service converged");
    expect(created.code).toBe(0);
    const id = await containerOf("spec");
    expect(await inspect(id, ".Config.Hostname")).toBe("h1-1");
    expect(await inspect(id, ".Config.Env")).toContain("WHO=spec.1");
    expect(await inspect(id, ".Config.Tty")).toBe(true);
    expect(await inspect(id, ".HostConfig")).toMatchObject({
      GroupAdd: ["1234"],
      ReadonlyRootfs: true,
      Init: true,
      CapAdd: ["CAP_NET_ADMIN"],
      CapDrop: ["CAP_CHOWN"],
      Sysctls: { "net.core.somaxconn": "1024" },
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      ExtraHosts: ["db:10.0.0.1"],
      Dns: ["10.0.0.53"],
      DnsSearch: ["example.org"],
      DnsOptions: ["ndots:2"],
      LogConfig: { Type: "json-file", Config: { "max-size": "1m" } },
      PidsLimit: 64,
    });
    expect(await inside(id, "hostname")).toBe("h1-1");
    expect(await inside(id, "cat /etc/hosts")).toMatch(/^10\.0\.0\.1\s+db$/m);
    expect(await inside(id, "cat /proc/sys/net/core/somaxconn")).toBe("1024");

    // An update changes one list and keeps the rest.
    const updated = await shoal("service", "update", "--cap-add", "SYS_TIME", "--host-rm", "db", "spec");
    expect(updated.code).toBe(0);
    let next = "";
    await waitUntil("the updated task's container", async () => {
      next = await containerOf("spec");
      return next !== id;
    });
    expect(await inspect(next, ".HostConfig.CapAdd")).toEqual(["CAP_NET_ADMIN", "CAP_SYS_TIME"]);
    expect(await inspect(next, ".HostConfig.ExtraHosts")).toBeNull();
    expect(await inspect(next, ".HostConfig.Init")).toBe(true);
  });

  it("the stock docker CLI's service create sets them through the Docker API, and inspect shows them", async () => {
    const created = await docker(
      "service", "create", "--name", "dk",
      "--hostname", "{{.Service.Name}}-{{.Task.Slot}}",
      "--init", "--cap-add", "SYS_TIME",
      "--sysctl", "net.core.somaxconn=512",
      "--ulimit", "nofile=100:200",
      "--host", "cache:10.0.0.9",
      "--dns", "10.0.0.54",
      "--log-driver", "json-file", "--log-opt", "max-size=2m",
      "--limit-pids", "32",
      // The docker CLI waits for the monitor period (default 5 s) to call the task stable.
      "--update-monitor", "1s",
      harness.baseImage, "sleep", "3600",
    ); // prettier-ignore
    expect(created.code).toBe(0);
    const id = await containerOf("dk");
    expect(await inside(id, "hostname")).toBe("dk-1");
    expect(await inspect(id, ".HostConfig")).toMatchObject({
      Init: true,
      CapAdd: ["CAP_SYS_TIME"],
      Sysctls: { "net.core.somaxconn": "512" },
      Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }],
      ExtraHosts: ["cache:10.0.0.9"],
      Dns: ["10.0.0.54"],
      LogConfig: { Type: "json-file", Config: { "max-size": "2m" } },
      PidsLimit: 32,
    });
    const spec = JSON.parse(
      (await docker("service", "inspect", "dk", "--format", "{{json .Spec.TaskTemplate}}")).stdout,
    ) as { ContainerSpec: Record<string, unknown>; LogDriver: unknown; Resources: { Limits: unknown } };
    expect(spec.ContainerSpec).toMatchObject({
      Hostname: "{{.Service.Name}}-{{.Task.Slot}}",
      Init: true,
      Sysctls: { "net.core.somaxconn": "512" },
      Hosts: ["10.0.0.9 cache"],
      DNSConfig: { Nameservers: ["10.0.0.54"] },
    });
    expect(spec.LogDriver).toEqual({ Name: "json-file", Options: { "max-size": "2m" } });
    expect(spec.Resources.Limits).toMatchObject({ Pids: 32 });
  });

  it("docker stack deploy of a compose file with these options runs a container honouring them", async () => {
    const compose = fileURLToPath(new URL("./container-spec/compose.yml", import.meta.url));
    const deployed = await exec(DOCKER, ["stack", "deploy", "-c", compose, "stk"], {
      DOCKER_HOST: dockerHost,
      DOCKER_CONFIG: root,
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: testClientCertDir(),
      IMAGE: harness.baseImage,
    });
    expect(deployed.code).toBe(0);
    const id = await containerOf("stk_app");
    expect(await inside(id, "hostname")).toBe("stk_app-1");
    expect(await inspect(id, ".Config.Env")).toContain("NODE=h1");
    expect(await inspect(id, ".Config.Tty")).toBe(true);
    expect(await inspect(id, ".Config.OpenStdin")).toBe(true);
    expect(await inspect(id, ".HostConfig")).toMatchObject({
      Init: true,
      ReadonlyRootfs: true,
      CapAdd: ["CAP_NET_ADMIN"],
      CapDrop: ["CAP_MKNOD"],
      Sysctls: { "net.core.somaxconn": "777" },
      ExtraHosts: ["db:10.0.0.7"],
      Dns: ["10.0.0.53"],
      DnsSearch: ["example.org"],
      LogConfig: { Type: "json-file", Config: { "max-size": "2m" } },
      PidsLimit: 50,
    });
    const ulimits = (await inspect(id, ".HostConfig.Ulimits")) as { Name: string }[];
    expect([...ulimits].sort((a, b) => a.Name.localeCompare(b.Name))).toEqual([
      { Name: "nofile", Soft: 300, Hard: 400 },
      { Name: "nproc", Soft: 500, Hard: 500 },
    ]);
    expect(await inside(id, "cat /proc/sys/net/core/somaxconn")).toBe("777");
  });

  it("refuses bad input with the field named, and creates nothing", async () => {
    const before = await serviceNames();
    const cap = await shoal("service", "create", "--name", "bad1", "--cap-add", "NET_FLY", harness.baseImage);
    expect(cap.code).not.toBe(0);
    expect(cap.stderr).toContain(
      'spec.task_template.container.capability_add[0]: "CAP_NET_FLY" is not a Linux capability',
    );
    const host = await shoal("service", "create", "--name", "bad2", "--host", "db", harness.baseImage);
    expect(host.code).not.toBe(0);
    expect(host.stderr).toContain('--host: "db" is not HOST:IP');
    const template = await shoal("service", "create", "--name", "bad3", "--hostname", "{{.Nope}}", harness.baseImage);
    expect(template.code).not.toBe(0);
    expect(template.stderr).toContain("spec.task_template.container.hostname: bad template");
    const viaDocker = await docker("service", "create", "--name", "bad4", "--cap-add", "NET_FLY", harness.baseImage);
    expect(viaDocker.code).not.toBe(0);
    expect(viaDocker.stderr).toContain("capability_add[0]");
    const unclosed = await docker(
      "service",
      "create",
      "--name",
      "bad5",
      "--hostname",
      "x-{{.Task.Slot",
      harness.baseImage,
    );
    expect(unclosed.code).not.toBe(0);
    expect(unclosed.stderr).toContain("hostname: bad template: unclosed action");
    expect(await serviceNames()).toEqual(before);
  });
});
