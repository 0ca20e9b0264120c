// The stock docker CLI operates task containers through a manager's Docker API: three managers and
// three agent hosts, each with its own dockerd; the CLI talks only to one manager, which reaches
// every container on its node through that node's agent. ps, inspect, exec (output, exit code,
// stdin, a real pseudo-terminal), logs -f, top, stats (streaming, through /events) and events, as a
// user would check them; a worker's certificate is refused.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type HostProcess } from "./harness/index.js";
import { spawnAgent, waitAgentsReady } from "./support/agents.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { DOCKER_BIN, dockerCli, type DockerCli } from "./support/docker-cli.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const PYTHON = "/usr/bin/python3";
// A line every 0.2 s, numbered, so that a follower sees new lines arrive.
const TICKER = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done";

let harness: Harness;
let root = "";
let managers: ClusterManager[] = [];
let docker: DockerCli;
let dockerHost = "";
const agents: HostProcess[] = [];
const control = new TestControl();
/** When the tick service was created, in seconds since the epoch (for docker events --since). */
let createdAt = 0;

/** The running tasks of `tick` with their containers, as the store has them. */
async function tickTasks(): Promise<Task[]> {
  const { service } = await control.call(managers[0]!.addr, "getService", { serviceId: "tick" });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  const { tasks } = await control.call(managers[0]!.addr, "listTasks", { filters });
  return tasks.filter((t) => t.status?.state === TaskState.RUNNING && t.status.containerStatus?.containerId);
}

/** The name `docker ps` shows for the running tick container on node `hostname`. */
async function containerOn(hostname: string): Promise<string> {
  const out = await docker.ok([
    "ps",
    "--filter",
    `label=com.shoal.node.hostname=${hostname}`,
    "--filter",
    "label=com.docker.swarm.service.name=tick",
    "--format",
    "{{.Names}}",
  ]);
  const name = out.trim().split("\n")[0] ?? "";
  if (!name) throw new Error(`no tick container on ${hostname}`);
  return name;
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-dockerapi-"));
  managers = await startManagerCluster({
    count: 3,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--unsafe-no-fsync", "--docker-api", "127.0.0.1:0"],
  });
  dockerHost = `tcp://${await dockerApiAddress(join(root, "m1.log"))}`;
  docker = dockerCli(dockerHost, root, 30_000);
  const token = (await joinTokens(control, managers[0]!.addr)).worker;
  const addrs = managers.map((m) => m.addr);
  for (const h of harness.hosts) agents.push(spawnAgent(h, { managers: addrs, token }));
  await waitAgentsReady(
    harness.hosts.map((h) => h.name),
    { control, via: managers[0]!.addr, timeoutMs: 60_000 },
  );
  // One task per host: the CLI reaches each through that host's agent.
  createdAt = Math.floor(Date.now() / 1000) - 1;
  await docker.ok([
    ...["service", "create", "-d", "--name", "tick", "--replicas", "3", "--replicas-max-per-node", "1"],
    ...["--container-label", "team=ops", harness.baseImage, "sh", "-c", TICKER],
  ]);
  await waitUntil("3 running tick containers", async () => (await tickTasks()).length === 3, 60_000);
}, 180_000);

afterAll(async () => {
  control.close();
  for (const a of agents) a.kill("SIGKILL");
  await Promise.all(managers.map((m) => m.proc.kill("SIGKILL")));
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("docker CLI on task containers through a manager", () => {
  it("docker ps lists every task container with its node's id, and filters and formats them", async () => {
    const tasks = await tickTasks();
    const { nodes } = await control.call(managers[0]!.addr, "listNodes", { filters: undefined });
    const out = await docker.ok([
      "ps",
      "--no-trunc",
      "--format",
      '{{.ID}} {{.Names}} {{.Label "com.docker.swarm.node.id"}} {{.Label "com.shoal.node.hostname"}} {{.Label "team"}} {{.State}}',
    ]);
    const rows = out.trim().split("\n").sort();
    const expected = tasks
      .map((t) => {
        const host = nodes.find((n) => n.id === t.nodeId)!.description!.hostname;
        return `${t.status!.containerStatus!.containerId} tick.${t.slot}.${t.id} ${t.nodeId} ${host} ops running`;
      })
      .sort();
    expect(rows).toEqual(expected);
    expect(new Set(rows.map((r) => r.split(" ")[3]))).toEqual(new Set(["h1", "h2", "h3"]));
    // Docker's table, and the filters a user would type.
    expect(await docker.ok(["ps"])).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
    expect(await docker.ok(["ps"])).toMatch(/Up (Less than a second|\d+ seconds?|About a minute|\d+ minutes)/);
    const onH2 = tasks.find((t) => nodes.find((n) => n.id === t.nodeId)?.description?.hostname === "h2")!;
    const q = await docker.ok(["ps", "-q", "--no-trunc", "--filter", `label=com.docker.swarm.node.id=${onH2.nodeId}`]);
    expect(q.trim()).toBe(onH2.status!.containerStatus!.containerId);
    expect((await docker.ok(["ps", "-q", "--filter", "name=tick.2."])).trim().split("\n")).toHaveLength(1);
    expect((await docker.ok(["ps", "-aq", "--filter", "status=exited"])).trim()).toBe("");
  });

  it("docker inspect shows the container as its node's dockerd does", async () => {
    const name = await containerOn("h3");
    const out = await docker.ok([
      "inspect",
      "--format",
      '{{.Name}} {{.State.Running}} {{index .Config.Labels "team"}}',
      name,
    ]);
    expect(out.trim()).toBe(`/${name} true ops`);
    const missing = await docker.run(["inspect", "--type", "container", "nosuch"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such container: nosuch");
  });

  it("docker exec runs a command on another host: its output and exit code, env, workdir, stdin", async () => {
    const name = await containerOn("h2");
    const r = await docker.run(["exec", name, "sh", "-c", "echo hi; exit 7"]);
    expect(r).toMatchObject({ code: 7, stdout: "hi\n" });
    // stderr stays stderr: the CLI demultiplexes Docker's frames.
    const env = await docker.run(["exec", "-e", "X=5", "-w", "/tmp", name, "sh", "-c", 'echo "$X $(pwd)" >&2']);
    expect(env).toMatchObject({ code: 0, stdout: "", stderr: "5 /tmp\n" });
    expect(await docker.ok(["exec", "-u", "1234", name, "busybox", "id", "-u"])).toBe("1234\n");
    const piped = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        DOCKER_BIN,
        ["exec", "-i", name, "sh", "-c", "cat; echo done"],
        { env: cliEnv(), timeout: 30_000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
      child.stdin!.end("piped\n");
    });
    expect(piped).toBe("piped\ndone\n");
  });

  it("an exec ends when its client is killed", async () => {
    const name = await containerOn("h3");
    const running = async (): Promise<boolean> => (await docker.ok(["top", name])).includes("sleep 1001");
    const child = spawn(DOCKER_BIN, ["exec", name, "sleep", "1001"], { env: cliEnv() });
    try {
      await waitUntil("the exec to run", running, 10_000);
    } finally {
      child.kill("SIGKILL");
    }
    await waitUntil("the exec to end", async () => !(await running()), 15_000);
  });

  it("docker exec -it works through a real pseudo-terminal", async () => {
    const name = await containerOn("h1");
    const { output, code } = await underPty(
      ["exec", "-it", name, "sh"],
      [
        ["", "echo $((6*7))\r"],
        ["42", "busybox stty size\r"],
        ["40 120", "exit 3\r"],
      ],
    );
    expect(output).toMatch(/^42\r?$/m);
    // The terminal's size reached the exec's TTY.
    expect(output).toMatch(/^40 120\r?$/m);
    expect(code).toBe(3);
  });

  it("docker logs -f follows new lines; --tail and --timestamps", async () => {
    const name = await containerOn("h3");
    const tail = await docker.ok(["logs", "--tail", "2", "--timestamps", name]);
    const lines = tail.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick \d+$/);
    const child = spawn(DOCKER_BIN, ["logs", "-f", "--tail", "1", name], { env: cliEnv() });
    const seen = new Set<string>();
    child.stdout.on("data", (d: Buffer) => {
      for (const l of d.toString().split("\n")) if (/^tick \d+$/.test(l)) seen.add(l);
    });
    try {
      // The last line, then two new ones.
      await waitUntil("new lines from docker logs -f", async () => seen.size >= 3, 15_000);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("docker attach streams the container's output", async () => {
    const child = spawn(DOCKER_BIN, ["attach", "--no-stdin", await containerOn("h1")], { env: cliEnv() });
    const seen = new Set<string>();
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      for (const l of d.toString().split("\n")) if (/^tick \d+$/.test(l)) seen.add(l);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await waitUntil("lines from docker attach", async () => seen.size >= 2, 15_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
      });
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("docker top lists the container's processes", async () => {
    const out = await docker.ok(["top", await containerOn("h2")]);
    expect(out).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD\n/);
    expect(out).toContain("while true");
  });

  it("docker stats --no-stream shows the containers", async () => {
    const name = await containerOn("h1");
    const one = await docker.ok(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", name]);
    expect(one.trim()).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")} \\d+(\\.\\d+)?[KMG]?i?B / `));
    const all = await docker.ok(["stats", "--no-stream", "--format", "{{.Name}}"]);
    expect(all.trim().split("\n").sort()).toHaveLength(3);
  });

  it("docker stats streams every running container, and docker events shows their starts", async () => {
    const names = (await docker.ok(["ps", "--format", "{{.Names}}"])).trim().split("\n").sort();
    expect(names).toHaveLength(3);
    const stats = spawn(DOCKER_BIN, ["stats", "--format", "{{.Name}} {{.MemUsage}}"], { env: cliEnv() });
    const events = spawn(
      DOCKER_BIN,
      [
        "events",
        "--since",
        String(createdAt),
        "--filter",
        "type=container",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
      ],
      { env: cliEnv() },
    );
    let statsOut = "";
    let eventsOut = "";
    stats.stdout.on("data", (d: Buffer) => (statsOut += d.toString()));
    stats.stderr.on("data", (d: Buffer) => (statsOut += d.toString()));
    events.stdout.on("data", (d: Buffer) => (eventsOut += d.toString()));
    try {
      await waitUntil(
        "docker stats shows every running container",
        async () => names.every((n) => new RegExp(`${n.replace(/\./g, "\\.")} \\d`).test(statsOut)),
        20_000,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: ${statsOut.slice(-500)}`, { cause: err });
      });
      await waitUntil(
        "docker events shows their starts",
        async () => names.every((n) => eventsOut.includes(`start ${n}`)),
        20_000,
      );
    } finally {
      stats.kill("SIGKILL");
      events.kill("SIGKILL");
    }
  });

  it("refuses a worker's certificate", async () => {
    const name = await containerOn("h2");
    const worker = join(harness.hosts[0]!.dir, "agent", "certificates");
    const r = await docker.run(["exec", name, "true"], { env: { DOCKER_CERT_PATH: worker } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("a worker certificate may not call");
  });
});

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  };
}

/**
 * Runs the docker CLI on a real pseudo-terminal (python3's pty module); each step waits for its
 * text in the output (after the previous step's) and then types its input. The CLI's output and
 * exit code.
 */
function underPty(args: string[], steps: [string, string][]): Promise<{ output: string; code: number }> {
  const script = `
import fcntl, json, os, pty, select, struct, sys, termios, time
args, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.execvp(args[0], args)
out, pos, deadline = b"", 0, time.time() + 20
for wait_for, send in steps:
    while wait_for.encode() not in out[pos:] and time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: data = os.read(fd, 4096)
            except OSError: data = b""
            if not data: break
            out += data
    if wait_for.encode() not in out[pos:]: break
    pos = len(out)
    time.sleep(0.3)
    os.write(fd, send.encode())
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: data = os.read(fd, 4096)
        except OSError: data = b""
        if not data: break
        out += data
    if os.waitpid(pid, os.WNOHANG)[0]: break
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"output": out.decode(errors="replace"), "code": os.waitstatus_to_exitcode(status)}))
`;
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      ["-c", script, JSON.stringify([DOCKER_BIN, ...args]), JSON.stringify(steps)],
      { env: cliEnv(), timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${PYTHON}: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout) as { output: string; code: number });
      },
    );
  });
}
