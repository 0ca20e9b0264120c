// Container operations through a manager against the node's Docker daemon directly, on two
// harness hosts (one manager and two agents as real processes, CONTAINERS task containers of
// sleep, each with 20 log lines):
//   - exec round trip: `echo x`, EXECS times one after the other, from the call to its output
//     and exit code: through the manager (Containers.ContainerCall, as `shoal task exec` calls it)
//     against dockerode's exec on the task's node (create, start hijacked, output, inspect);
//   - stats, one sample (stream=false, as `docker stats --no-stream`) of every container at once,
//     and logs --tail 10 of every container at once: the time until all CONTAINERS answered,
//     through the manager (ContainerCall STATS; the log broker's SubscribeLogs per task) and
//     directly (dockerode on both daemons), ROUNDS times.
//   node_modules/.bin/tsx --conditions=@shoal/source test/bench/container-ops.ts
// Prints one JSON line {"bench":"container-ops", ...}: p50/p95 in ms of each.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import {
  ContainerOp,
  ContainersClient,
  LogsClient,
  TaskState,
  serverStream,
  type ContainerCallOpen,
  type ContainerCallResponse,
  type SubscribeLogsResponse,
  type Task,
} from "@shoal/shared";
import { createHarness, type Harness, type Host } from "../e2e/harness/index.js";
import { startAgents } from "../e2e/support/agents.js";
import { TestControl, testClientCredentials } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { startManagerCluster } from "../e2e/support/manager-cluster.js";
import { SHOAL_BIN, freePort, type ShoalProcess } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";

const EXECS = Number(process.env["BENCH_EXECS"] ?? 50);
const CONTAINERS = Number(process.env["BENCH_CONTAINERS"] ?? 100);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5);
const control = new TestControl();

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

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[at]! * 10) / 10;
}

function summary(name: string, values: readonly number[]): Record<string, number> {
  return { [`${name}_p50_ms`]: percentile(values, 50), [`${name}_p95_ms`]: percentile(values, 95) };
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** One ContainerCall as `shoal task exec|stats` makes it: `open`, then every answer to the end. */
async function containerCall(
  client: ContainersClient,
  open: Partial<ContainerCallOpen>,
): Promise<ContainerCallResponse[]> {
  const call = client.containerCall();
  const base = { container: "", op: ContainerOp.UNKNOWN, caller: "" };
  call.write({ input: { $case: "open", value: { ...base, ...open } as ContainerCallOpen } });
  const answers: ContainerCallResponse[] = [];
  for await (const res of serverStream(call)) answers.push(res);
  return answers;
}

/** `echo x` through the manager: the call, its output and its exit code. */
async function execViaManager(client: ContainersClient, container: string): Promise<void> {
  const exec = {
    cmd: ["echo", "x"],
    env: [],
    user: "",
    workingDir: "",
    tty: false,
    attachStdin: false,
    attachStdout: true,
    attachStderr: true,
    privileged: false,
    detachKeys: "",
  };
  let out = "";
  let code: number | undefined;
  for (const res of await containerCall(client, { container, op: ContainerOp.EXEC, exec })) {
    if (res.output?.$case === "data") out += Buffer.from(res.output.value.data).toString();
    if (res.output?.$case === "exit") code = res.output.value.exitCode;
  }
  if (out !== "x\n" || code !== 0) throw new Error(`exec through the manager: ${JSON.stringify({ out, code })}`);
}

/** `echo x` with dockerode on the node's daemon, as the docker CLI does it. */
async function execDirect(docker: Docker, container: string): Promise<void> {
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: ["echo", "x"], AttachStdout: true, AttachStderr: true });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const info = await exec.inspect();
  // Multiplexed: an 8-byte header, then the payload.
  const out = Buffer.concat(chunks).subarray(8).toString();
  if (out !== "x\n" || info.ExitCode !== 0) throw new Error(`direct exec: ${JSON.stringify({ out, info })}`);
}

async function statsViaManager(client: ContainersClient, taskId: string): Promise<void> {
  const stats = { stream: false, oneShot: false };
  const answers = await containerCall(client, { container: taskId, op: ContainerOp.STATS, stats });
  const json = answers.find((r) => r.output?.$case === "json")?.output;
  const doc = json?.$case === "json" ? (JSON.parse(Buffer.from(json.value).toString()) as { cpu_stats?: unknown }) : {};
  if (typeof doc.cpu_stats !== "object") throw new Error(`no stats of ${taskId}`);
}

async function logsViaManager(logs: LogsClient, taskId: string): Promise<void> {
  const call = logs.subscribeLogs({
    selector: { serviceIds: [], taskIds: [taskId] },
    options: { follow: false, tail: 10, stdout: true, stderr: true, since: undefined },
  });
  const lines: string[] = [];
  for await (const res of call as AsyncIterable<SubscribeLogsResponse>) {
    lines.push(...res.messages.map((m) => Buffer.from(m.data).toString()));
  }
  if (lines.length !== 10 || lines[9] !== "line 20\n") throw new Error(`logs of ${taskId}: ${JSON.stringify(lines)}`);
}

/** Every container at once, ROUNDS times: the time until all answered, per round. */
async function allAtOnce(targets: readonly Task[], each: (task: Task) => Promise<void>): Promise<number[]> {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await timed(() => Promise.all(targets.map(each))));
  return rounds;
}

async function main(): Promise<void> {
  let harness: Harness | undefined;
  const root = await mkdtemp(join(tmpdir(), "shoal-cli-bench-ops-"));
  const result: Record<string, unknown> = {
    bench: "container-ops",
    execs: EXECS,
    containers: CONTAINERS,
    rounds: ROUNDS,
  };
  let manager: ShoalProcess | undefined;
  let calls: ContainersClient | undefined;
  let logs: LogsClient | undefined;
  try {
    harness = await createHarness({ hosts: ["cob1", "cob2"], pullBaseImage: true });
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
    await shoal(
      addr,
      ...["service", "create", "--detach", "--name", "sleepers", "--replicas", String(CONTAINERS)],
      ...[harness.baseImage, "sh", "-c", "for i in $(busybox seq 20); do echo line $i; done; exec sleep 1000000"],
    );
    let tasks: Task[] = [];
    await waitUntil(
      `${CONTAINERS} running containers`,
      async () => {
        const listed = (await control.call(addr, "listTasks", { filters: undefined })).tasks;
        tasks = listed.filter((t) => t.status?.state === TaskState.RUNNING);
        return tasks.length === CONTAINERS;
      },
      600_000,
    );
    const { nodes } = await control.call(addr, "listNodes", { filters: undefined });
    const hostOf = new Map<string, Host>(
      nodes.map((n) => [n.id, harness!.hosts.find((h) => h.name === n.description?.hostname)!]),
    );
    const dockers = new Map(harness.hosts.map((h) => [h.name, new Docker({ socketPath: h.dockerSocket })]));
    const dockerOf = (t: Task): Docker => dockers.get(hostOf.get(t.nodeId)!.name)!;
    const containerOf = (t: Task): string => t.status!.containerStatus!.containerId;
    const { credentials, options } = testClientCredentials();
    calls = new ContainersClient(addr, credentials, options);
    logs = new LogsClient(addr, credentials, options);

    // (a) exec round trips on one task, one after the other, after a warm-up.
    const target = tasks.find((t) => hostOf.get(t.nodeId)?.name === "cob2")!;
    const manage = (): Promise<void> => execViaManager(calls!, containerOf(target));
    const direct = (): Promise<void> => execDirect(dockerOf(target), containerOf(target));
    for (let i = 0; i < 3; i++) await Promise.all([manage(), direct()]);
    const viaManager: number[] = [];
    const viaDocker: number[] = [];
    for (let i = 0; i < EXECS; i++) {
      viaManager.push(await timed(manage));
      viaDocker.push(await timed(direct));
    }
    Object.assign(result, summary("exec_manager", viaManager), summary("exec_direct", viaDocker));

    // (b) stats and logs of every container at once.
    const stats = await allAtOnce(tasks, (t) => statsViaManager(calls!, t.id));
    const statsDirect = await allAtOnce(tasks, async (t) => {
      const doc = (await dockerOf(t).getContainer(containerOf(t)).stats({ stream: false })) as { cpu_stats?: unknown };
      if (typeof doc.cpu_stats !== "object") throw new Error("no stats");
    });
    const logsManager = await allAtOnce(tasks, (t) => logsViaManager(logs!, t.id));
    const logsDirect = await allAtOnce(tasks, async (t) => {
      const out = await dockerOf(t)
        .getContainer(containerOf(t))
        .logs({ stdout: true, stderr: true, tail: 10, follow: false });
      if (!Buffer.from(out).includes("line 20")) throw new Error("no log lines");
    });
    Object.assign(
      result,
      summary("stats_all_manager", stats),
      summary("stats_all_direct", statsDirect),
      summary("logs_all_manager", logsManager),
      summary("logs_all_direct", logsDirect),
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    calls?.close();
    logs?.close();
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
