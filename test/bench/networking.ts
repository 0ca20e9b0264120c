// Service networking figures on two harness hosts (own namespaces and dockerds, one manager and
// two agents as real processes):
//   - name_ready_ms: from a task's RUNNING (as its agent reported it) to the first answer a client
//     on the other host gets from it by name (tasks.NAME; target < 1000 ms);
//   - throughput: MB/s of a 256 MB stream between containers on the two hosts through the overlay
//     (sent from b2, read on b1),
//     against the same stream between the two hosts' namespaces directly (target >= 80 %);
//   - connections per second from a client container, one request per connection, sequential:
//     to a task's address directly, through the service's virtual IP, and through the routing
//     mesh (the other host's address and published port).
//   node_modules/.bin/tsx --conditions=@shoal/source test/bench/networking.ts
// Prints one JSON line {"bench":"networking", ...}.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskState, type Task } from "@shoal/shared";
import { createHarness, type Harness, type Host } from "../e2e/harness/index.js";
import { startAgents } from "../e2e/support/agents.js";
import { TestControl } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { startManagerCluster } from "../e2e/support/manager-cluster.js";
import { HTTPD, containerOf, sh } from "../e2e/support/net-probe.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";

const STREAM_MB = Number(process.env["BENCH_STREAM_MB"] ?? 256);
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 200);
const control = new TestControl();
const round = (x: number): number => Math.round(x * 100) / 100;

function shoal(addr: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SHOAL_BIN, ...args],
      { env: { ...process.env, SHOAL_MANAGER: addr }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`shoal ${args.join(" ")}: ${stderr}`)) : resolve(stdout)),
    );
  });
}

async function tasksOf(addr: string, name: string): Promise<Task[]> {
  const { service } = await control.call(addr, "getService", { serviceId: name });
  const filters = { idPrefixes: [], serviceIds: [service!.id], nodeIds: [], desiredStates: [] };
  return (await control.call(addr, "listTasks", { filters })).tasks;
}

async function runningTask(addr: string, name: string): Promise<Task> {
  let task: Task | undefined;
  await waitUntil(
    `${name} running`,
    async () => (task = (await tasksOf(addr, name)).find((t) => t.status?.state === TaskState.RUNNING)) !== undefined,
    120_000,
  );
  return task!;
}

/** Seconds a shell pipeline takes inside a container (uptime before and after). */
function timed(script: string): string {
  return `a=$(cut -d" " -f1 /proc/uptime); ${script}; b=$(cut -d" " -f1 /proc/uptime); echo "elapsed $a $b"`;
}

function elapsed(out: string): number {
  const m = /elapsed (\S+) (\S+)/.exec(out);
  if (!m) throw new Error(`no timing in: ${out}`);
  return Number(m[2]) - Number(m[1]);
}

/**
 * Streams STREAM_MB from a sender at `address`:9000 (busybox `nc -l -e dd`: its `nc` sends a
 * piped stdin only in part) to a reader counting the bytes (both shell runners); MB/s. The reader
 * tries again until the sender listens, and only a transfer of every byte is timed.
 */
async function stream(
  serve: (script: string) => Promise<string>,
  read: (script: string) => Promise<string>,
  address: string,
): Promise<number> {
  const bytes = STREAM_MB * 2 ** 20;
  const server = serve(`busybox nc -l -p 9000 -e sh -c 'dd if=/dev/zero bs=1M count=${STREAM_MB} 2>/dev/null'`);
  const out = await read(
    "while :; do a=$(busybox cut -d' ' -f1 /proc/uptime); " +
      `n=$(busybox nc ${address} 9000 </dev/null | busybox wc -c); ` +
      `b=$(busybox cut -d' ' -f1 /proc/uptime); [ "$n" -ge ${bytes} ] && break; sleep 0.2; done; ` +
      'echo "elapsed $a $b"',
  );
  await server;
  return STREAM_MB / elapsed(out);
}

async function connectionsPerSecond(h: Host, container: string, address: string, port: number): Promise<number> {
  const out = await sh(h, container, timed(`for i in $(seq ${REQUESTS}); do get ${address} ${port} >/dev/null; done`));
  return REQUESTS / elapsed(out);
}

async function main(): Promise<void> {
  let harness: Harness | undefined;
  const root = await mkdtemp(join(tmpdir(), "shoal-bench-net-"));
  const result: Record<string, unknown> = { bench: "networking" };
  let manager: ShoalProcess | undefined;
  try {
    harness = await createHarness({ hosts: ["b1", "b2"], pullBaseImage: true });
    const [h1, h2] = harness.hosts as [Host, Host];
    const [m] = await startManagerCluster({
      count: 1,
      root,
      control,
      addr: async () => `${harness!.gateway}:${await freePort()}`,
      args: ["--unsafe-no-fsync"],
    });
    manager = m!.proc;
    const addr = m!.addr;
    const token = (await joinTokens(control, addr)).worker;
    await startAgents(harness.hosts, { control, managers: [addr], token });
    const image = harness.baseImage;
    await shoal(addr, "network", "create", "bench");
    const create = (name: string, hostname: string, ...rest: string[]): Promise<string> =>
      shoal(
        addr,
        "service",
        "create",
        "--detach",
        "--name",
        name,
        "--network",
        "bench",
        ...["--constraint", `node.hostname==${hostname}`, ...rest],
      );
    await create("client", "b1", image, "sleep", "3600");
    await create("sink", "b2", image, "sleep", "3600");
    await create("web", "b2", "-p", "8080:80", image, "sh", "-c", HTTPD);
    await runningTask(addr, "client");
    await runningTask(addr, "sink");
    const web = await runningTask(addr, "web");
    const client = await containerOf(h1, "client");
    const sink = await containerOf(h2, "sink");

    // Name to ready: a service of 0 replicas on b2 (its name resolves, to no task), scaled to 1,
    // polled by name (tasks.fresh) from b1 until its task answers.
    await create("fresh", "b2", "--replicas", "0", image, "sh", "-c", HTTPD);
    const probe = sh(
      h1,
      client,
      'while :; do ip=$(resolve tasks.fresh); [ -n "$ip" ] && [ -n "$(get "$ip" 80)" ] && break; done; ' +
        'echo "ready $(cut -d" " -f1 /proc/uptime)"',
    );
    await new Promise((r) => setTimeout(r, 1000));
    await shoal(addr, "service", "update", "--detach", "fresh", "--replicas", "1");
    const fresh = await runningTask(addr, "fresh");
    const readyAt = Number(/ready (\S+)/.exec(await probe)?.[1]);
    // The task's RUNNING time is wall-clock; uptime is converted with one offset read here.
    const wallAtUptime = Date.now() / 1000 - Number((await h1.exec("cut", ["-d", " ", "-f1", "/proc/uptime"])).stdout);
    const runningAt = (fresh.status?.timestamp?.getTime() ?? 0) / 1000;
    result["name_ready_ms"] = Math.round((readyAt + wallAtUptime - runningAt) * 1000);
    result["name_ready_target_ms"] = 1000;

    // Throughput: overlay between containers, and the hosts directly.
    const sinkAddr = (await tasksOf(addr, "sink"))[0]!.networks[0]!.addresses[0]!.split("/")[0]!;
    const overlay = await stream(
      (s) => sh(h2, sink, s),
      (s) => sh(h1, client, s),
      sinkAddr,
    );
    const direct = await stream(
      async (s) => (await h2.exec("busybox", ["sh", "-c", s], { timeoutMs: 180_000 })).stdout,
      async (s) => (await h1.exec("busybox", ["sh", "-c", s], { timeoutMs: 180_000 })).stdout,
      h2.address,
    );
    Object.assign(result, {
      overlay_mb_s: round(overlay),
      direct_mb_s: round(direct),
      overlay_ratio: round(overlay / direct),
      overlay_ratio_target_min: 0.8,
    });

    // Connections per second.
    const webAddr = web.networks[0]!.addresses[0]!.split("/")[0]!;
    const vip = (await control.call(addr, "getService", { serviceId: "web" })).service!.endpoint!.virtualIps[0]!.addr;
    const directCps = await connectionsPerSecond(h1, client, webAddr, 80);
    const vipCps = await connectionsPerSecond(h1, client, vip.split("/")[0]!, 80);
    const meshCps = await connectionsPerSecond(h1, client, h2.address, 8080);
    Object.assign(result, {
      requests: REQUESTS,
      direct_conn_s: round(directCps),
      vip_conn_s: round(vipCps),
      mesh_conn_s: round(meshCps),
      vip_ratio: round(vipCps / directCps),
      mesh_ratio: round(meshCps / directCps),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    control.close();
    await manager?.kill("SIGKILL");
    await harness?.dispose();
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
