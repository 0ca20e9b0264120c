// shoal task exec [-i] [-t] [-e K=V] [-u USER] [-w DIR] TASK CMD [ARG...]: a command in a task
// container on whichever node runs it, as `docker exec` on that node's daemon: its output, its
// stdin (-i; the end of ours ends its), a terminal (-t: raw mode, the size and its changes), and
// its exit code as ours. A failure of the call itself exits 125, as docker does for its own errors.
import {
  ContainerOp,
  ContainerOutputStream,
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  errorMessage,
  type ContainerCallResponse,
  type ExecConfig,
} from "@shoal/shared";
import { containerOpen, statusCode, type ContainerCallSession, type ContainerCalls } from "./container-call.js";
import { abortOnSignals, rawMode, terminalSize, watchResize, type ExecIo } from "./terminal.js";

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  detachKeys?: string;
}

/** The exit code for a failure of the call, not of the command (docker's own errors). */
export const EXEC_FAILED = 125;

/** -e values: K=V, or K alone for this process's value of K (left out when unset), as docker. */
export function execEnv(values: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return values.flatMap((v) => {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === "" || /\s/.test(key)) {
      throw new InvalidArgumentError(`"${v}" is not an environment variable (KEY=VALUE)`, { field: "--env" });
    }
    if (eq >= 0) return [v];
    const value = env[key];
    return value === undefined ? [] : [`${key}=${value}`];
  });
}

export function execConfig(cmd: readonly string[], flags: ExecFlags): ExecConfig {
  if (cmd.length === 0) throw new InvalidArgumentError("no command to run", { field: "command" });
  return {
    cmd: [...cmd],
    env: execEnv(flags.env),
    user: flags.user ?? "",
    workingDir: flags.workdir ?? "",
    tty: flags.tty ?? false,
    attachStdin: flags.interactive ?? false,
    attachStdout: true,
    attachStderr: true,
    privileged: flags.privileged ?? false,
    detachKeys: flags.detachKeys ?? "",
  };
}

/** Runs the exec to its end; returns the exit code for this process. */
export async function runExec(
  calls: ContainerCalls,
  container: string,
  cmd: readonly string[],
  flags: ExecFlags,
  io: ExecIo,
): Promise<number> {
  const config = execConfig(cmd, flags);
  if (config.tty && config.attachStdin && !io.stdin.isTTY) {
    throw new ShoalError(
      ErrorCode.FailedPrecondition,
      "the input device is not a TTY (drop -t, or run from a terminal)",
    );
  }
  const controller = new AbortController();
  const signals = abortOnSignals(controller);
  const cleanups: (() => void)[] = [signals.stop];
  let exitCode: number | undefined;
  try {
    const session = await calls.start(
      containerOpen(container, ContainerOp.EXEC, {
        exec: config,
        size: config.tty ? terminalSize(io) : undefined,
      }),
      controller.signal,
    );
    if (config.tty) {
      // Raw mode only when our keys go to the command, as docker.
      if (config.attachStdin) cleanups.push(rawMode(io));
      cleanups.push(watchResize(io, (size) => session.write({ $case: "resize", value: size })));
    }
    if (config.attachStdin) cleanups.push(pumpStdin(io, session.write));
    for await (const res of session.responses) {
      const code = output(res, io);
      if (code !== undefined) exitCode = code;
    }
  } catch (err: unknown) {
    io.stderr.write(`shoal: ${errorMessage(err)}\n`);
    return EXEC_FAILED;
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
  const signal = signals.signal();
  if (signal !== undefined) return 128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1);
  if (exitCode === undefined) {
    io.stderr.write("shoal: the exec ended without an exit code: its node's session was lost\n");
    return EXEC_FAILED;
  }
  return exitCode;
}

/** Writes one answer out; returns the exit code when it is the end. */
function output(res: ContainerCallResponse, io: ExecIo): number | undefined {
  const out = res.output;
  switch (out?.$case) {
    case "data": {
      const to = out.value.stream === ContainerOutputStream.STDERR ? io.stderr : io.stdout;
      to.write(Buffer.from(out.value.data));
      return undefined;
    }
    case "exit":
      return out.value.exitCode;
    case "error":
      throw new ShoalError(statusCode(out.value.code), out.value.message);
    default:
      return undefined;
  }
}

/** Sends our stdin to the exec, then its end; returns the stop. */
function pumpStdin(io: ExecIo, write: ContainerCallSession["write"]): () => void {
  const { stdin } = io;
  const onData = (chunk: Buffer | string): void =>
    write({ $case: "stdin", value: typeof chunk === "string" ? Buffer.from(chunk) : chunk });
  const onEnd = (): void => write({ $case: "closeStdin", value: true });
  stdin.on("data", onData);
  stdin.once("end", onEnd);
  stdin.resume();
  return () => {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.pause();
  };
}
