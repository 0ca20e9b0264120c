// shoal up | down: a local cluster on this machine (one manager and one agent against the local
// Docker daemon), started in the background with its state and logs under one directory.
import { spawn } from "node:child_process";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { NodeState, ShoalError, ErrorCode, errorMessage, isProcessAlive, type Node } from "@shoal/shared";
import { Control } from "../client.js";
import { nodeTable } from "./node.js";
import { parseAddress } from "./daemons.js";

const DEFAULT_DIR = ".shoal/local";

interface UpFlags {
  dir: string;
  listen: string;
  dockerHost?: string;
  timeout: string;
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, "utf8").catch(() => "");
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined;
}

/** Starts `shoal <args>` detached, its output appended to `log`; returns its pid. */
async function startDaemon(args: string[], log: string, pidFile: string): Promise<number> {
  const out = await open(log, "a");
  try {
    const child = spawn(process.execPath, [process.argv[1]!, ...args], {
      detached: true,
      stdio: ["ignore", out.fd, out.fd],
    });
    child.unref();
    if (child.pid === undefined) throw new ShoalError(ErrorCode.Internal, `could not start shoal ${args[0]}`);
    await writeFile(pidFile, `${child.pid}\n`);
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

async function up(flags: UpFlags): Promise<void> {
  const dir = resolve(flags.dir);
  const listen = parseAddress(flags.listen, "--listen");
  const timeoutMs = Number(flags.timeout) * 1000;
  if (!(timeoutMs > 0))
    throw new ShoalError(ErrorCode.InvalidArgument, `--timeout: "${flags.timeout}" is not a number of seconds`);
  await mkdir(dir, { recursive: true });

  const managerPid =
    (await readPid(join(dir, "manager.pid"))) ??
    (await startDaemon(
      ["manager", "--listen", listen, "--data-dir", join(dir, "manager")],
      join(dir, "manager.log"),
      join(dir, "manager.pid"),
    ));
  const control = new Control(listen, 2000);
  try {
    await waitFor(`the manager did not answer on ${listen} (log: ${join(dir, "manager.log")})`, timeoutMs, () =>
      control.call("getInfo", {}),
    );
    const agentPid =
      (await readPid(join(dir, "agent.pid"))) ??
      (await startDaemon(
        [
          "agent",
          "--manager",
          listen,
          "--data-dir",
          join(dir, "agent"),
          ...(flags.dockerHost ? ["--docker-host", flags.dockerHost] : []),
        ],
        join(dir, "agent.log"),
        join(dir, "agent.pid"),
      ));
    const nodes = await waitFor<Node[]>(
      `the agent did not register (log: ${join(dir, "agent.log")})`,
      timeoutMs,
      async () => {
        const { nodes } = await control.call("listNodes", { filters: undefined });
        return nodes.some((n) => n.status?.state === NodeState.READY) ? nodes : undefined;
      },
    );
    process.stdout.write(
      `Shoal is up: manager ${listen} (pid ${managerPid}), agent (pid ${agentPid}); state and logs in ${dir}\n\n`,
    );
    process.stdout.write(nodeTable(nodes));
    process.stdout.write(`\nTry: shoal node ls --manager ${listen}   Stop: shoal down\n`);
  } finally {
    control.close();
  }
}

async function down(flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir);
  for (const role of ["agent", "manager"]) {
    const pidFile = join(dir, `${role}.pid`);
    const pid = await readPid(pidFile);
    if (pid !== undefined) {
      process.kill(pid, "SIGTERM");
      await waitFor(`the ${role} (pid ${pid}) did not stop`, 15_000, async () =>
        isProcessAlive(pid) ? undefined : true,
      );
      process.stdout.write(`stopped the ${role} (pid ${pid})\n`);
    }
    await rm(pidFile, { force: true });
  }
}

export function registerLocalCommands(program: Command): void {
  program
    .command("up")
    .description("start a local cluster: a manager and an agent on this machine's Docker, in the background")
    .option("--dir <dir>", "state and logs of the local cluster", DEFAULT_DIR)
    .option("--listen <addr>", "the manager's HOST:PORT", "127.0.0.1:4242")
    .option("--docker-host <url>", "Docker daemon for the agent", process.env["DOCKER_HOST"])
    .option("--timeout <seconds>", "how long to wait for the cluster to be ready", "30")
    .action(up);
  program
    .command("down")
    .description("stop the local cluster that `shoal up` started (its state stays)")
    .option("--dir <dir>", "state and logs of the local cluster", DEFAULT_DIR)
    .action(down);
}
