// Service networking on real hosts, with real traffic: three managers (processes on the harness's
// gateway address) and agents on three hosts, each with its own dockerd and network namespace.
// A client task on h1 reaches `web` (6 replicas on h2 and h3) by name through its virtual IP and
// sees every replica answer; `tasks.web` lists every replica; a port published in ingress mode
// answers on every host, those without a task included; a killed task stops getting connections;
// two networks cannot reach each other; connections keep working while an agent restarts; a
// leader change hands out no address twice. Names are resolved with busybox's nslookup (its own
// resolver; busybox-static's libc resolver is unusable in a bare image) and fetched with nc.
import { connect } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Service, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host, type HostProcess } from "./harness/index.js";
import { spawnAgent, waitAgentsReady } from "./support/agents.js";
import { TestControl } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { dockerCli, type DockerCli } from "./support/docker-cli.js";
import { joinTokens } from "./support/join-tokens.js";
import { HTTPD, REPLICA_BODY, addressesOf, containerOf, sh, uptime } from "./support/net-probe.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { SHOAL_BIN, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";
import { execFile } from "node:child_process";

let harness: Harness;
let root = "";
let managers: ClusterManager[] = [];
let token = "";
let docker: DockerCli;
const agents = new Map<string, HostProcess>();
const control = new TestControl();

/** The address of the manager that is the leader now. */
async function leader(): Promise<string> {
  for (const m of managers) {
    if (!m.proc.running) continue;
    const info = await control.call(m.addr, "getInfo", {}, 1000).catch(() => undefined);
    if (info?.isLeader) return m.addr;
  }
  throw new Error("no leader");
}

function shoal(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SHOAL_MANAGER: managers.map((m) => m.addr).join(",") };
    execFile(process.execPath, [SHOAL_BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`shoal ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

const host = (name: string): Host => harness.hosts.find((h) => h.name === name)!;

async function tasksOf(name: string): Promise<Task[]> {
  const addr = await leader();
  const { service } = await control.call(addr, "getService", { serviceId: name });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(addr, "listTasks", { filters })).tasks;
}

async function serviceOf(name: string): Promise<Service> {
  return (await control.call(await leader(), "getService", { serviceId: name })).service!;
}

const running = (tasks: readonly Task[]): Task[] =>
  tasks.filter((t) => t.desiredState === TaskState.RUNNING && t.status?.state === TaskState.RUNNING);

async function waitRunning(name: string, n: number): Promise<Task[]> {
  let tasks: Task[] = [];
  try {
    await waitUntil(
      `${n} running tasks of ${name}`,
      async () => (tasks = running(await tasksOf(name))).length === n,
      60_000,
    );
  } catch (err: unknown) {
    const states = (await tasksOf(name).catch(() => []))
      .map((t) => `${t.annotations?.name} ${TaskState[t.status?.state ?? 0]} ${t.status?.err ?? ""}`)
      .join("; ");
    throw new Error(`${(err as Error).message}: ${states}`, { cause: err });
  }
  return tasks;
}

/** A GET of / from this machine to ADDR:PORT; the body's last line, or "" when refused. */
function fetchFromOutside(addr: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: addr, port, timeout: 3000 });
    let data = "";
    socket.on("connect", () => socket.write("GET / HTTP/1.0\r\n\r\n"));
    socket.on("data", (d: Buffer) => (data += d.toString()));
    socket.on("end", () => resolve(data.trim().split("\n").pop() ?? ""));
    socket.on("error", () => resolve(""));
    socket.on("timeout", () => {
      socket.destroy();
      resolve("");
    });
  });
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-net-"));
  managers = await startManagerCluster({
    count: 3,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--unsafe-no-fsync", "--docker-api", "127.0.0.1:0"],
  });
  docker = dockerCli(`tcp://${await dockerApiAddress(join(root, "m0.log"))}`, root);
  token = (await joinTokens(control, managers[0]!.addr)).worker;
  const addrs = managers.map((m) => m.addr);
  for (const h of harness.hosts) agents.set(h.name, spawnAgent(h, { managers: addrs, token }));
  await waitAgentsReady(
    harness.hosts.map((h) => h.name),
    { control, via: leader, timeoutMs: 60_000 },
  );
  await shoal("network", "create", "--subnet", "10.20.0.0/24", "app");
  await shoal("network", "create", "other");
  const image = harness.baseImage;
  await shoal(
    ...["service", "create", "--detach", "--name", "web", "--replicas", "6", "--network", "app"],
    ...["--constraint", "node.hostname!=h1", "-p", "8080:80", image, "sh", "-c", HTTPD],
  );
  await shoal(
    ...["service", "create", "--detach", "--name", "client", "--network", "app"],
    ...["--constraint", "node.hostname==h1", image, "sleep", "3600"],
  );
  await shoal(
    ...["service", "create", "--detach", "--name", "lonely", "--network", "other"],
    ...["--constraint", "node.hostname==h1", image, "sleep", "3600"],
  );
  await waitRunning("web", 6);
  await waitRunning("client", 1);
  await waitRunning("lonely", 1);
}, 240_000);

afterAll(async () => {
  control.close();
  for (const a of agents.values()) a.kill("SIGKILL");
  await Promise.all(managers.map((m) => m.proc.kill("SIGKILL")));
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("service networking across hosts", () => {
  it("gives web a virtual IP in its network and every task its own address", async () => {
    const web = await serviceOf("web");
    const { network } = await control.call(await leader(), "getNetwork", { networkId: "app" });
    const vip = web.endpoint?.virtualIps.find((v) => v.networkId === network!.id)?.addr ?? "";
    expect(vip).toMatch(/^10\.20\.0\.\d+\/24$/);
    const addrs = addressesOf(running(await tasksOf("web")), network!.id);
    expect(addrs).toHaveLength(6);
    expect(new Set([...addrs, vip]).size).toBe(7);
  });

  it("lets a client on h1 resolve web to its VIP and tasks.web to every replica", async () => {
    const client = await containerOf(host("h1"), "client");
    const web = await serviceOf("web");
    const vip = (web.endpoint?.virtualIps[0]?.addr ?? "").split("/")[0];
    const out = await sh(host("h1"), client, "resolve web; busybox nslookup tasks.web");
    expect(out.split("\n")[0]).toBe(vip);
    const { network } = await control.call(await leader(), "getNetwork", { networkId: "app" });
    const expected = addressesOf(running(await tasksOf("web")), network!.id).map((a) => a.split("/")[0]!);
    const listed = [...out.matchAll(/Address:\s*(10\.20\.0\.\d+)$/gm)].map((m) => m[1]);
    expect(new Set(listed)).toEqual(new Set(expected));
  });

  it("spreads 60 requests to web's VIP over all 6 replicas on h2 and h3", async () => {
    const client = await containerOf(host("h1"), "client");
    const out = await sh(host("h1"), client, 'ip=$(resolve web); for i in $(seq 60); do get "$ip" 80; done');
    const bodies = out.split("\n").filter(Boolean);
    expect(bodies).toHaveLength(60);
    const hostnames = new Set<string>();
    for (const h of [host("h2"), host("h3")]) {
      const ids = (await h.docker(["ps", "-q", "--filter", "label=com.shoal.service.name=web"])).stdout;
      for (const id of ids.split("\n").filter(Boolean)) hostnames.add(id.slice(0, 12));
    }
    expect(new Set(bodies)).toEqual(hostnames);
  });

  it("opens a port published in ingress mode on every host, h1 (no task of web) too, for hosts and tasks", async () => {
    for (const h of harness.hosts) {
      await expect.poll(() => fetchFromOutside(h.address, 8080), { timeout: 10_000 }).toMatch(REPLICA_BODY);
    }
    // And from a task: its traffic leaves its host masqueraded (egress) and meets h3's mesh.
    const client = await containerOf(host("h1"), "client");
    expect((await sh(host("h1"), client, `get ${host("h3").address} 8080`)).trim()).toMatch(REPLICA_BODY);
  });

  it("keeps two networks apart", async () => {
    const lonely = await containerOf(host("h1"), "lonely");
    const { network } = await control.call(await leader(), "getNetwork", { networkId: "app" });
    const target = addressesOf(running(await tasksOf("web")), network!.id)[0]!.split("/")[0]!;
    const out = await sh(host("h1"), lonely, `echo "get:$(get ${target} 80)"; echo "resolve:$(resolve web)"`);
    expect(out.trim().split("\n")).toEqual(["get:", "resolve:"]);
  });

  it("stops sending connections to a killed task within 2 s", async () => {
    const client = await containerOf(host("h1"), "client");
    const victim = await containerOf(host("h2"), "web");
    // Times are the kernel's uptime (one clock for this process and the containers).
    const killedAt = await uptime();
    await host("h2").docker(["kill", victim]);
    // Each line: the uptime when the request started, then its answer.
    const out = await sh(
      host("h1"),
      client,
      "ip=$(resolve web); t0=$(cut -d. -f1 /proc/uptime); while [ $(($(cut -d. -f1 /proc/uptime) - t0)) -lt 6 ]; do " +
        't=$(cut -d" " -f1 /proc/uptime); echo "$t $(get "$ip" 80)"; done',
    );
    const late = out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" "))
      .filter(([t]) => Number(t) >= killedAt + 2);
    expect(late.length).toBeGreaterThan(5);
    for (const [, body] of late) {
      expect(body).toMatch(REPLICA_BODY);
      expect(body).not.toBe(victim.slice(0, 12));
    }
  });

  it("keeps connections working while an agent restarts", async () => {
    const client = await containerOf(host("h1"), "client");
    agents.get("h2")!.kill("SIGKILL");
    const during = await sh(host("h1"), client, 'ip=$(resolve web); for i in $(seq 10); do get "$ip" 80; done');
    expect(during.split("\n").filter((l) => REPLICA_BODY.test(l))).toHaveLength(10);
    agents.set("h2", spawnAgent(host("h2"), { managers: managers.map((m) => m.addr), token }));
    await waitAgentsReady(["h2"], { control, via: leader, timeoutMs: 60_000 });
    const after = await sh(host("h1"), client, 'ip=$(resolve web); for i in $(seq 10); do get "$ip" 80; done');
    expect(after.split("\n").filter((l) => REPLICA_BODY.test(l))).toHaveLength(10);
  });

  it("deploys a web + api + db stack on two networks with the stock docker CLI", async () => {
    const compose = [
      'version: "3.8"',
      "services:",
      ...["web:front", "api:front,back", "db:back"].flatMap((entry) => {
        const [name, nets] = entry.split(":") as [string, string];
        return [
          `  ${name}:`,
          "    image: ${IMAGE}",
          `    command: ["sh", "-c", ${JSON.stringify(HTTPD)}]`,
          `    networks: [${nets}]`,
        ];
      }),
      "networks:",
      "  front: { driver: overlay }",
      "  back: { driver: overlay }",
    ].join("\n");
    await writeFile(join(root, "stack.yml"), `${compose}\n`);
    const deploy = await docker.run(["stack", "deploy", "-c", "stack.yml", "app"], {
      env: { IMAGE: harness.baseImage },
      cwd: root,
    });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stdout).toContain("Creating network app_front");
    for (const name of ["app_web", "app_api", "app_db"]) await waitRunning(name, 1);
    const find = async (service: string): Promise<[Host, string]> => {
      for (const h of harness.hosts) {
        const id = await containerOf(h, service).catch(() => "");
        if (id !== "") return [h, id];
      }
      throw new Error(`no container of ${service}`);
    };
    const [webHost, web] = await find("app_web");
    const [apiHost, api] = await find("app_api");
    // web reaches api by its short name, and api reaches db. A task runs a moment before its
    // server listens and before every host's resolver and data plane know it: wait for that.
    const probe = { timeout: 20_000, interval: 250 };
    await expect
      .poll(() => sh(webHost, web, 'echo "api:$(get "$(resolve api)" 80)"'), probe)
      .toMatch(/^api:[0-9a-f]{12}$/m);
    await expect
      .poll(() => sh(apiHost, api, 'echo "db:$(get "$(resolve db)" 80)"'), probe)
      .toMatch(/^db:[0-9a-f]{12}$/m);
    // db is known (api reached it by name), and not on web's networks: web cannot resolve it.
    expect(await sh(webHost, web, 'echo "db:$(resolve db)"')).toMatch(/^db:$/m);
  });

  it("hands out no address twice across a leader change", async () => {
    const old = await leader();
    await managers.find((m) => m.addr === old)!.proc.kill("SIGKILL");
    managers = managers.filter((m) => m.addr !== old);
    await waitUntil("a new leader", async () => (await leader()) !== old, 30_000);
    await shoal("service", "update", "--detach", "web", "--replicas", "9");
    const tasks = await waitRunning("web", 9);
    const { network } = await control.call(await leader(), "getNetwork", { networkId: "app" });
    const web = await serviceOf("web");
    const addrs = [
      ...addressesOf(tasks, network!.id),
      ...addressesOf(running(await tasksOf("client")), network!.id),
      ...(web.endpoint?.virtualIps.map((v) => v.addr) ?? []),
    ];
    expect(addrs).toHaveLength(11);
    expect(new Set(addrs).size).toBe(11);
  });
});
