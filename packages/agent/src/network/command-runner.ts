// How the agent's network parts run iproute2, sysctl and iptables: through a runner, so that tests run the same code
// in a test host's network namespace (nsenter) and unit tests record the commands.
import { spawn } from "node:child_process";

export interface CommandResult {
  readonly stdout: string;
}

/** Runs `command args`, with `input` on its stdin; rejects with CommandFailedError unless it exits 0. */
export type CommandRunner = (command: string, args: readonly string[], input?: string) => Promise<CommandResult>;

export class CommandFailedError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command.join(" ")}: exit ${exitCode ?? "by signal"}: ${stderr.trim() || "(no message)"}`);
    this.name = "CommandFailedError";
  }
}

const TIMEOUT_MS = 30_000;

/** Spawns the binary itself (found on PATH), or with `prefix` before it (e.g. nsenter --net=...). */
export function spawnRunner(prefix: readonly string[] = []): CommandRunner {
  return (command, args, input) => {
    const argv = [...prefix, command, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] ?? command, argv.slice(1), {
        stdio: ["pipe", "pipe", "pipe"],
        timeout: TIMEOUT_MS,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      child.on("error", (err) => reject(new CommandFailedError(argv, null, err.message)));
      child.on("close", (code) => {
        if (code === 0) resolve({ stdout });
        else reject(new CommandFailedError(argv, code, stderr));
      });
      child.stdin.on("error", () => undefined); // a command that exits early closes its stdin
      child.stdin.end(input ?? "");
    });
  };
}

/** A runner for the network namespace at `path` (/run/netns/NAME), for tests. */
export function netnsRunner(path: string): CommandRunner {
  return spawnRunner(["nsenter", `--net=${path}`, "--"]);
}

/** How a command ended, for callers that branch on the exit status (iptables -C). */
export interface CommandStatus {
  /** The exit status; -1 when the command could not be started or was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `argv` through `run`; resolves with its status instead of rejecting when it fails. */
export async function runStatus(run: CommandRunner, argv: readonly string[], input?: string): Promise<CommandStatus> {
  const [command = "", ...args] = argv;
  try {
    return { code: 0, stderr: "", ...(await run(command, args, input)) };
  } catch (err: unknown) {
    if (!(err instanceof CommandFailedError)) throw err;
    return { code: err.exitCode ?? -1, stdout: "", stderr: err.stderr };
  }
}
