// Runs a command to completion and collects its output; the one place that turns an exit status
// into a CommandError.
import { spawn } from "node:child_process";
import { CommandError, HarnessError } from "./errors.js";

export interface CommandOptions {
  /** Kill the command (SIGKILL) after this many milliseconds; default 60 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, which is closed afterwards. */
  readonly input?: string;
  /** Throw a CommandError when the command fails (default true). */
  readonly check?: boolean;
}

export interface CommandResult {
  readonly command: readonly string[];
  /** null when the command was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs `file args`; rejects with a CommandError on failure unless `check` is false. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const command = [file, ...args];
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);

    const kill = (): void => {
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    options.signal?.addEventListener("abort", kill, { once: true });

    child.on("error", (err: unknown) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      reject(new HarnessError("COMMAND_FAILED", `cannot run ${command.join(" ")}`, { cause: err }));
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", kill);
      const result: CommandResult = { command, exitCode, signal, stdout, stderr, timedOut };
      if ((options.check ?? true) && exitCode !== 0) reject(new CommandError(result));
      else resolve(result);
    });
  });
}
