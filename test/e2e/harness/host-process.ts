// A long-running process the harness started inside a test host (a Shoal manager or agent, a
// server for a test), with its output appended to a log file.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { HarnessError } from "./errors.js";
import { processRef, type ProcessRef } from "./processes.js";

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Added to (and overriding) the inherited environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Inherit the harness process's environment (default true); false keeps only PATH and HOME. */
  readonly inheritEnv?: boolean;
  /** Where stdout and stderr go (appended); default: the host's log file. */
  readonly logFile?: string;
  readonly cwd?: string;
}

export class HostProcess {
  readonly pid: number;
  readonly ref: ProcessRef;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly command: readonly string[];
  /** Settles when the process has exited, however that happened. */
  readonly exited: Promise<ExitStatus>;
  #status: ExitStatus | undefined;

  private constructor(child: ChildProcess, ref: ProcessRef, logFile: string, command: readonly string[]) {
    this.child = child;
    this.ref = ref;
    this.pid = ref.pid;
    this.logFile = logFile;
    this.command = command;
    this.exited = new Promise<ExitStatus>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.#status = { code, signal };
        resolve(this.#status);
      };
      if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
      else child.once("exit", done);
    });
  }

  /**
   * Runs `command args` with `nsenter --net=<netnsPath>`: nsenter execs the command, so the pid
   * is the command's own.
   */
  static start(
    nsenter: string,
    netnsPath: string,
    command: string,
    args: readonly string[],
    logFile: string,
    options: SpawnOptions = {},
  ): HostProcess {
    appendFileSync(logFile, `==== ${new Date().toISOString()} start: ${[command, ...args].join(" ")}\n`);
    const log = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(nsenter, [`--net=${netnsPath}`, "--", command, ...args], {
        stdio: ["ignore", log, log],
        env: { ...baseEnv(options.inheritEnv ?? true), ...options.env },
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      });
    } finally {
      closeSync(log);
    }
    child.on("error", () => {
      // reported through `exited` (exit code) and the log
    });
    const ref = child.pid === undefined ? undefined : processRef(child.pid);
    if (ref === undefined) throw new HarnessError("COMMAND_FAILED", `cannot start ${command} (see ${logFile})`);
    return new HostProcess(child, ref, logFile, [command, ...args]);
  }

  get running(): boolean {
    return this.#status === undefined;
  }

  /** The exit status once exited. */
  get status(): ExitStatus | undefined {
    return this.#status;
  }

  /** Sends a signal (default SIGKILL); does nothing once exited. */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status. */
  async stop(graceMs = 5_000): Promise<ExitStatus> {
    this.kill("SIGTERM");
    const status = await Promise.race([this.exited, sleep(graceMs).then(() => undefined)]);
    if (status !== undefined) return status;
    this.kill("SIGKILL");
    return this.exited;
  }
}

function baseEnv(inherit: boolean): NodeJS.ProcessEnv {
  if (inherit) return process.env;
  const env: NodeJS.ProcessEnv = {};
  for (const key of ["PATH", "HOME"]) if (process.env[key] !== undefined) env[key] = process.env[key];
  return env;
}
