// How the data plane runs iproute2 and sysctl: through a runner, so that tests run the same code
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
