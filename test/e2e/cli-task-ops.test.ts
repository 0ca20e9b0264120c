// `shoal task ps|exec|top|stats|logs` and `shoal service stats` with the real command against one
// manager and agents on two harness hosts (each with its own dockerd): every call goes through the
// manager, which hands it to the agent of the task's node. exec -it runs under a real pseudo-
// terminal (python3's pty module), with its size, a resize and the exit code.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host, type HostProcess } from "./harness/index.js";
import { spawnAgent, waitAgentsReady } from "./support/agents.js";
import { TestControl } from "./support/control-client.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { SHOAL_BIN, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

let harness: Harness;
let root = "";
let manager: ClusterManager;
const agents: HostProcess[] = [];
const control = new TestControl();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeout = 30_000): Promise<Run> {
  const env = { ...process.env, SHOAL_MANAGER: manager.addr };
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const shoal = (...args: string[]): Promise<Run> => run(process.execPath, [SHOAL_BIN, ...args]);

/** A long-running shoal command: its output so far, SIGINT, and its exit code. */
function shoalSpawn(...args: string[]): { out: () => string; interrupt: () => Promise<number | null> } {
  const child = spawn(process.execPath, [SHOAL_BIN, ...args], { env: { ...process.env, SHOAL_MANAGER: manager.addr } });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    out: () => out,
    interrupt: () => {
      child.kill("SIGINT");
      return exited;
    },
  };
}

async function webTasks(): Promise<Task[]> {
  const { service } = await control.call(manager.addr, "getService", { serviceId: "web" });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(manager.addr, "listTasks", { filters })).tasks.filter(
    (t) => t.status?.state === TaskState.RUNNING,
  );
}

/** The running web task on `host`, and its container id. */
async function taskOn(host: Host): Promise<{ task: Task; container: string }> {
  const { nodes } = await control.call(manager.addr, "listNodes", { filters: undefined });
  const node = nodes.find((n) => n.description?.hostname === host.name)!;
  const task = (await webTasks()).find((t) => t.nodeId === node.id)!;
  return { task, container: task.status!.containerStatus!.containerId };
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["cli1", "cli2"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-cli-taskops-"));
  const managers = await startManagerCluster({
    count: 1,
    root,
    control,
    addr: async () => `${harness.gateway}:${await freePort()}`,
    args: ["--unsafe-no-fsync"],
  });
  manager = managers[0]!;
  const token = (await joinTokens(control, manager.addr)).worker;
  for (const h of harness.hosts) agents.push(spawnAgent(h, { managers: [manager.addr], token }));
  await waitAgentsReady(
    harness.hosts.map((h) => h.name),
    { control, via: manager.addr, timeoutMs: 60_000 },
  );
  const created = await shoal(
    ...["service", "create", "--detach", "--name", "web", "--mode", "global", harness.baseImage],
    ...["sh", "-c", "echo ready on $HOSTNAME; echo warn >&2; exec sleep 1000000"],
  );
  expect(created.stderr).toBe("");
  await waitUntil("a running web task on each host", async () => (await webTasks()).length === 2, 60_000);
}, 180_000);

afterAll(async () => {
  control.close();
  for (const a of agents) a.kill("SIGKILL");
  await manager?.proc.kill("SIGKILL");
  await harness?.dispose();
  if (root && !process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("shoal task commands on task containers of two hosts", () => {
  it("lists both hosts' task containers with their node", async () => {
    const ps = await shoal("task", "ps");
    expect(ps.code).toBe(0);
    const lines = ps.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES +NODE$/);
    for (const host of harness.hosts) {
      const { task, container } = await taskOn(host);
      // The container is really on that host's daemon.
      const onHost = await host.docker(["ps", "-q", "--no-trunc"]);
      expect(onHost.stdout).toContain(container);
      const row = lines.find((l) => l.startsWith(container.slice(0, 12)));
      expect(row).toMatch(new RegExp(`Up .* web\\.${task.nodeId}\\.${task.id} +${host.name}$`));
    }
    expect(lines).toHaveLength(3);
    const json = JSON.parse((await shoal("task", "ps", "--json", "--filter", "node=cli2")).stdout) as {
      node: string;
    }[];
    expect(json.map((c) => c.node)).toEqual(["cli2"]);
  });

  it("runs a command in a container on another host: its output and exit code", async () => {
    const { container } = await taskOn(harness.host("cli2"));
    const out = await shoal(
      "task",
      "exec",
      container.slice(0, 10),
      "sh",
      "-c",
      "echo out $HOSTNAME; echo err >&2; exit 3",
    );
    expect(out.code).toBe(3);
    expect(out.stdout).toBe(`out ${container.slice(0, 12)}\n`);
    expect(out.stderr).toBe("err\n");
    const { task } = await taskOn(harness.host("cli1"));
    const byName = await shoal("task", "exec", "-e", "X=42", `web.${task.nodeId}`, "sh", "-c", "echo $X");
    expect(byName).toMatchObject({ code: 0, stdout: "42\n" });
    // A manager that cannot be reached is skipped for the next.
    const failover = await shoal("task", "exec", "--manager", `127.0.0.1:9,${manager.addr}`, task.id, "echo", "ok");
    expect(failover).toMatchObject({ code: 0, stdout: "ok\n" });
    const missing = await shoal("task", "exec", "nosuchtask", "true");
    expect(missing.code).toBe(125);
    expect(missing.stderr).toBe("shoal: no such container: nosuchtask\n");
  });

  it("runs exec -it under a real terminal: size, resize, input and exit code", async () => {
    const { container } = await taskOn(harness.host("cli1"));
    const script = `
import fcntl, os, pty, select, struct, sys, termios, time
def size(fd, rows, cols): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
pid, fd = pty.fork()
if pid == 0:
    size(0, 30, 100)
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def until(token, limit=20):
    global out
    end = time.time() + limit
    while token not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: break
    if token not in out: sys.exit("no %r in %r" % (token, out))
until(b"# ")
os.write(fd, b"busybox stty size; echo $((6*7))z\\r")
until(b"42z")
size(fd, 40, 120)
time.sleep(0.5)
os.write(fd, b"busybox stty size; exit 5\\r")
_, status = os.waitpid(pid, 0)
try:
    while True:
        data = os.read(fd, 4096)
        if not data: break
        out += data
except OSError: pass
sys.stdout.write(out.decode(errors="replace") + "\\nEXIT=%d\\n" % os.waitstatus_to_exitcode(status))
`;
    const out = await run("/usr/bin/python3", [
      "-c",
      script,
      process.execPath,
      SHOAL_BIN,
      "task",
      "exec",
      "-it",
      container,
      "sh",
    ]);
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("30 100");
    expect(out.stdout).toContain("42z");
    expect(out.stdout).toContain("40 120");
    expect(out.stdout).toMatch(/EXIT=5\n$/);
  });

  it("shows a container's processes with task top", async () => {
    const { container } = await taskOn(harness.host("cli2"));
    const top = await shoal("task", "top", container);
    expect(top.code).toBe(0);
    const lines = top.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    expect(lines.some((l) => /sleep 1000000$/.test(l))).toBe(true);
  });

  it("prints one stats sample per task container, and per service", async () => {
    const stats = await shoal("task", "stats", "--no-stream");
    expect(stats.code).toBe(0);
    const row =
      /^[0-9a-f]{12} +web\.\S+ +(cli1|cli2) +\d+\.\d\d% +[\d.]+[KMG]?i?B \/ [\d.]+[KMGT]?i?B +\d+\.\d\d% +.+ +1$/;
    const rows = stats.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(row);
    const service = await shoal("service", "stats", "--no-stream", "web");
    expect(service.code).toBe(0);
    const serviceRows = service.stdout.trim().split("\n").slice(1);
    expect(serviceRows.map((r) => r.match(row)?.[1]).sort()).toEqual(["cli1", "cli2"]);
    // The limit and the pids as the stock docker CLI prints them on the node itself.
    const host = harness.host("cli2");
    const { container } = await taskOn(host);
    const ours = rows.find((r) => r.startsWith(container.slice(0, 12)))!.split(/ {3,}/);
    const docker = await host.docker(["stats", "--no-stream", "--format", "{{.MemUsage}}|{{.PIDs}}", container]);
    const [usage, pids] = docker.stdout.trim().split("|");
    expect(ours[4]!.split(" / ")[1]).toBe(usage!.split(" / ")[1]);
    expect(ours[8]).toBe(pids);
  });

  it("streams stats until interrupted", async () => {
    const { task } = await taskOn(harness.host("cli1"));
    const live = shoalSpawn("task", "stats", task.id);
    await waitUntil("two stats tables", async () => live.out().split("CONTAINER ID").length > 2, 15_000);
    expect(await live.interrupt()).toBe(0);
    expect(live.out()).toMatch(/web\.\S+ +cli1 +\d+\.\d\d%/);
  });

  it("prints one task's logs", async () => {
    const { container, task } = await taskOn(harness.host("cli2"));
    const logs = await shoal("task", "logs", task.id);
    expect(logs).toMatchObject({ code: 0, stdout: `ready on ${container.slice(0, 12)}\n`, stderr: "warn\n" });
    // -f: a line the container writes later comes too.
    const follow = shoalSpawn("task", "logs", "-f", "--tail", "2", `web.${task.nodeId}`);
    await waitUntil("the backlog", async () => follow.out().includes("ready on"), 15_000);
    await shoal("task", "exec", task.id, "sh", "-c", "echo followed > /proc/1/fd/1");
    await waitUntil("the new line", async () => follow.out().includes("followed\n"), 15_000);
    expect(await follow.interrupt()).toBe(0);
  });
});
