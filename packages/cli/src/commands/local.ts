// shoal up | down: a local cluster on this machine — managers and agents as background processes
// against the local Docker daemon, with their state and logs under one directory. `up` stays in
// the foreground and stops the cluster on Ctrl-C (its state stays); `up --detach` returns at once;
// `down` stops what runs and removes the state and the cluster's containers.
import { execFile, spawn } from "node:child_process";
import { mkdir, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { ErrorCode, NodeState, ShoalError, errorMessage, isProcessAlive, type Node } from "@shoal/shared";
import { nodeCertDir } from "@shoal/manager";
import { Control } from "../client.js";
import { nodeTable } from "./node.js";
import { parseAddress } from "./daemons.js";
import { allNodes } from "../list.js";

const DEFAULT_DIR = ".shoal/local";
const run = promisify(execFile);

interface UpFlags {
  dir: string;
  listen: string;
  managers: string;
  agents: string;
  dockerHost?: string;
  dockerApi?: string;
  dashboard?: string;
  timeout: string;
  detach?: boolean;
}

interface Daemon {
  readonly name: string;
  readonly args: string[];
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined;
}

/** Starts `shoal <args>` detached, its output appended to `log`; returns its pid. */
async function startDaemon(dir: string, daemon: Daemon): Promise<number> {
  const running = await readPid(join(dir, `${daemon.name}.pid`));
  if (running !== undefined) return running;
  const out = await open(join(dir, `${daemon.name}.log`), "a");
  try {
    const child = spawn(process.execPath, [process.argv[1]!, ...daemon.args], {
      detached: true,
      stdio: ["ignore", out.fd, out.fd],
    });
    child.unref();
    if (child.pid === undefined) throw new ShoalError(ErrorCode.Internal, `could not start shoal ${daemon.args[0]}`);
    await writeFile(join(dir, `${daemon.name}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    await out.close();
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err: unknown) {
      last = errorMessage(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ShoalError(ErrorCode.DeadlineExceeded, `${what} within ${timeoutMs / 1000} s${last ? `: ${last}` : ""}`);
}

function count(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > 9) {
    throw new ShoalError(ErrorCode.InvalidArgument, `${flag}: "${value}" must be a whole number from ${min} to 9`);
  }
  return n;
}

function managerAddrs(listen: string, n: number): string[] {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i);
  const port = Number(listen.slice(i + 1));
  return Array.from({ length: n }, (_, k) => `${host}:${port + k}`);
}

async function pidFiles(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith(".pid")).map((f) => f.slice(0, -4));
}

async function stopAll(dir: string, say: (line: string) => void): Promise<void> {
  const names = (await pidFiles(dir)).sort(
    (a, b) => (a.startsWith("agent") ? -1 : 0) - (b.startsWith("agent") ? -1 : 0),
  );
  for (const name of names) {
    const pid = await readPid(join(dir, `${name}.pid`));
    if (pid !== undefined) {
      process.kill(pid, "SIGTERM");
      await waitFor(`${name} (pid ${pid}) to stop`, 15_000, async () => (isProcessAlive(pid) ? undefined : true));
      say(`stopped ${name} (pid ${pid})`);
    }
    await rm(join(dir, `${name}.pid`), { force: true });
  }
}

async function up(flags: UpFlags): Promise<void> {
  const dir = resolve(flags.dir);
  const listen = parseAddress(flags.listen, "--listen");
  const managers = count(flags.managers, "--managers", 1);
  const agents = count(flags.agents, "--agents", 0);
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!(timeoutMs > 0)) {
    throw new ShoalError(ErrorCode.InvalidArgument, `--timeout: "${flags.timeout}" is not a number of seconds`);
  }
  await mkdir(dir, { recursive: true });
  const addrs = managerAddrs(listen, managers);
  // The first manager writes the admin client certificate at init: this command and the user's
  // next ones call the cluster with it.
  const tlsDir = join(dir, "manager-1", "client");
  process.env["SHOAL_TLS_DIR"] = tlsDir;
  const control = new Control(addrs, 2000);
  try {
    let tokens: { worker: string; manager: string } | undefined;
    for (let i = 0; i < managers; i++) {
      const name = `manager-${i + 1}`;
      const args = ["manager", "--listen", addrs[i]!, "--data-dir", join(dir, name)];
      if (i > 0) args.push("--join", addrs[0]!, "--token", tokens!.manager);
      if (i === 0 && flags.dockerApi) args.push("--docker-api", parseAddress(flags.dockerApi, "--docker-api"));
      if (i === 0 && flags.dashboard) args.push("--dashboard", parseAddress(flags.dashboard, "--dashboard"));
      await startDaemon(dir, { name, args });
      await waitFor(`${name} to answer on ${addrs[i]} (log: ${join(dir, `${name}.log`)})`, timeoutMs, async () => {
        const info = await new Control(addrs[i]!, 1000).call("getInfo", {});
        return info.raft && info.raft.leaderRaftId !== 0 ? info : undefined;
      });
      tokens ??= await waitFor("the cluster's join tokens", timeoutMs, async () => {
        const { cluster } = await new Control(addrs[0]!, 1000).call("getCluster", { clusterId: "" });
        const t = cluster?.rootJoinTokens;
        return t?.worker && t.manager ? { worker: t.worker, manager: t.manager } : undefined;
      });
    }
    const host = hostname();
    for (let i = 0; i < agents; i++) {
      const name = `agent-${i + 1}`;
      // The first agents run as the managers' nodes (managers are nodes); any more join as workers.
      // A worker promoted later listens on a port after the managers' (managerAddrs continued).
      const identity =
        i < managers
          ? ["--manager-cert-dir", nodeCertDir(join(dir, `manager-${i + 1}`))]
          : ["--token", tokens!.worker, "--manager-listen", managerAddrs(listen, i + 1)[i]!];
      const args = ["agent", "--manager", addrs.join(","), "--data-dir", join(dir, name), ...identity];
      args.push("--hostname", agents === 1 ? host : `${host}-${i + 1}`);
      if (flags.dockerHost) args.push("--docker-host", flags.dockerHost);
      await startDaemon(dir, { name, args });
    }
    const nodes = await waitFor<Node[]>(`the agents to register (logs: ${dir}/agent-*.log)`, timeoutMs, async () => {
      const nodes = await allNodes(control);
      // Nodes with an agent (a manager without one is a node too, but runs no tasks).
      const withAgent = nodes.filter((n) => n.status?.state === NodeState.READY && n.description?.engine);
      return withAgent.length >= agents ? nodes : undefined;
    });
    process.stdout.write(
      `Shoal is up: ${managers} manager(s) at ${addrs.join(",")} and ${agents} agent(s) on this host's Docker.\n` +
        `State and logs: ${dir}\n\n`,
    );
    process.stdout.write(nodeTable(nodes));
    process.stdout.write(
      `\nUse it:  export SHOAL_MANAGER=${addrs.join(",")} SHOAL_TLS_DIR=${tlsDir}\n` +
        `         shoal service create --name web --replicas 3 IMAGE\n` +
        (flags.dockerApi
          ? `Docker:  export DOCKER_HOST=tcp://${flags.dockerApi} DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${tlsDir}\n` +
            `         (then docker service|stack|node ...)\n`
          : "") +
        (flags.dashboard
          ? `Web:     shoal dashboard login   (prints a one-time link to https://${flags.dashboard})\n`
          : "") +
        (flags.detach ? "Stop:    shoal down\n" : "Stop:    Ctrl-C (keeps the state; shoal down removes it)\n"),
    );
  } finally {
    control.close();
  }
  if (flags.detach) return;
  // Signal listeners alone do not keep Node running: a timer does, until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  clearInterval(keepAlive);
  process.stdout.write("\nstopping the local cluster...\n");
  await stopAll(dir, (line) => process.stdout.write(`${line}\n`));
}

/** Containers that agents of this local cluster made, by their node id label. */
async function removeContainers(dir: string, say: (line: string) => void): Promise<void> {
  const nodeIds: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (!entry.startsWith("agent-") || entry.endsWith(".log") || entry.endsWith(".pid")) continue;
    const state = await readFile(join(dir, entry, "agent-state.json"), "utf8").catch(() => "");
    const id = state ? (JSON.parse(state) as { nodeId?: unknown }).nodeId : undefined;
    if (typeof id === "string") nodeIds.push(id);
  }
  for (const id of nodeIds) {
    const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=com.shoal.node.id=${id}`]).catch(() => ({
      stdout: "",
    }));
    const ids = stdout.split("\n").filter(Boolean);
    if (ids.length > 0) {
      await run("docker", ["rm", "-f", "-v", ...ids]).catch(() => undefined);
      say(`removed ${ids.length} container(s) of node ${id.slice(0, 12)}`);
    }
  }
}

async function down(flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  await stopAll(dir, say);
  await removeContainers(dir, say);
  await rm(dir, { recursive: true, force: true });
  say(`removed ${dir}`);
}

export function registerLocalCommands(program: Command): void {
  program
    .command("up")
    .description("start a local cluster on this machine's Docker: managers and agents (Ctrl-C stops it)")
    .option("--dir <dir>", "state and logs of the local cluster", DEFAULT_DIR)
    .option("--listen <addr>", "the first manager's HOST:PORT; the others take the next ports", "127.0.0.1:4242")
    .option("--managers <n>", "number of managers", "3")
    .option("--agents <n>", "number of agents (they share the local Docker daemon)", "3")
    .option("--docker-host <url>", "Docker daemon for the agents", process.env["DOCKER_HOST"])
    .option("--docker-api <addr>", "HOST:PORT where the first manager serves the Docker API, for the docker CLI")
    .option("--dashboard <addr>", "HOST:PORT where the first manager serves the web dashboard (HTTPS)")
    .option("--timeout <seconds>", "how long to wait for the cluster to be ready", "60")
    .option("-d, --detach", "leave the cluster running in the background and return")
    .action(up);
  program
    .command("down")
    .description("stop the local cluster and remove its state and containers")
    .option("--dir <dir>", "state and logs of the local cluster", DEFAULT_DIR)
    .action(down);
}
