// Exec and attach: a hijacked connection to the daemon carries the client's stdin one way and the
// output the other (multiplexed into stdout and stderr without a TTY, raw with one); resizes go
// to the daemon as they come; the call ends with the exit code. An exec never outlives its call:
// when the call is cancelled first, its process is killed.
import { readFile, readlink } from "node:fs/promises";
import type { Duplex } from "node:stream";
import {
  ContainerOutputStream,
  componentLogger,
  errorMessage,
  type AttachConfig,
  type ContainerCallStarted,
  type ExecConfig,
  type Logger,
  type TerminalSize,
} from "@shoal/shared";
import type Docker from "dockerode";
import type { CallChannel, CallInput } from "../../../containers/call-channel.js";
import { OutputDemux } from "../../../containers/call-logic.js";

/** How often the exit is looked for once the output has ended (doubling up to the max). */
const POLL_MS = 20;
const POLL_MAX_MS = 1000;
/** How long an attach's container is given to stop once its output ended (else the client detached). */
const ATTACH_EXIT_POLLS = 6;

export interface StreamCallOptions {
  readonly docker: Docker;
  readonly channel: CallChannel;
  readonly containerId: string;
  readonly started: ContainerCallStarted;
  readonly size: TerminalSize | undefined;
  readonly logger: Logger;
}

export async function serveExec(options: StreamCallOptions, config: ExecConfig): Promise<void> {
  const { docker, channel, containerId } = options;
  const exec = await docker.getContainer(containerId).exec({
    Cmd: config.cmd,
    Env: config.env,
    Tty: config.tty,
    AttachStdin: config.attachStdin,
    AttachStdout: config.attachStdout,
    AttachStderr: config.attachStderr,
    Privileged: config.privileged,
    ...(config.user !== "" ? { User: config.user } : {}),
    ...(config.workingDir !== "" ? { WorkingDir: config.workingDir } : {}),
    ...(config.detachKeys !== "" ? { DetachKeys: config.detachKeys } : {}),
  });
  await channel.send({ $case: "started", value: { ...options.started, execId: exec.id } });
  if (channel.signal.aborted) return;
  const socket = (await exec.start({ hijack: true, stdin: config.attachStdin, Tty: config.tty })) as Duplex;
  const logger = componentLogger(options.logger, "container-calls");
  let finished = false;
  let killing: Promise<void> | undefined;
  const cancel = (): void => {
    if (finished || killing !== undefined) return;
    // The kill comes before the connection closes: a connection closed under a running exec makes
    // the daemon mark the exec ended (exit 126) while its process runs on.
    killing = killExec(exec, docker.getContainer(containerId), logger).finally(() => socket.destroy());
  };
  channel.signal.addEventListener("abort", cancel, { once: true });
  if (channel.signal.aborted) cancel(); // while the exec was starting
  try {
    const resize = (size: TerminalSize): Promise<unknown> => exec.resize({ h: size.height, w: size.width });
    await pump(options, socket, config.tty, config.attachStdin, resize);
    // An exec whose output ended (it closed its stdout) may still run: its exit is awaited.
    const exitCode = await pollUntil(channel.signal, Infinity, async () => {
      const info = await exec.inspect();
      return info.Running ? undefined : (info.ExitCode ?? -1);
    });
    finished = exitCode !== undefined;
    if (exitCode !== undefined) await channel.send({ $case: "exit", value: { exitCode } });
  } finally {
    channel.signal.removeEventListener("abort", cancel);
    // Cancelled while the exit was looked for: the process may still be there.
    if (channel.signal.aborted) cancel();
    await killing;
    socket.destroy();
  }
}

export async function serveAttach(options: StreamCallOptions, config: AttachConfig, tty: boolean): Promise<void> {
  const { docker, channel } = options;
  const container = docker.getContainer(options.containerId);
  await channel.send({ $case: "started", value: options.started });
  if (channel.signal.aborted) return;
  const socket = (await container.attach({
    hijack: true,
    stream: config.stream,
    stdin: config.stdin,
    stdout: config.stdout,
    stderr: config.stderr,
    logs: config.logs,
    ...(config.detachKeys !== "" ? { detachKeys: config.detachKeys } : {}),
  })) as Duplex;
  // Leaving an attach leaves the container as it is: only the connection goes.
  const close = (): void => void socket.destroy();
  channel.signal.addEventListener("abort", close, { once: true });
  if (channel.signal.aborted) close();
  try {
    const resize = (size: TerminalSize): Promise<unknown> => container.resize({ h: size.height, w: size.width });
    await pump(options, socket, tty, config.stdin, resize);
    // The output ends when the container stops, or when the client detached (it still runs).
    const exitCode = await pollUntil(channel.signal, ATTACH_EXIT_POLLS, async () => {
      const info = await container.inspect();
      return info.State.Running ? undefined : info.State.ExitCode;
    });
    if (exitCode !== undefined) await channel.send({ $case: "exit", value: { exitCode } });
  } finally {
    channel.signal.removeEventListener("abort", close);
    socket.destroy();
  }
}

/** Input to the daemon and output to the client until the daemon ends the output. */
async function pump(
  options: StreamCallOptions,
  socket: Duplex,
  tty: boolean,
  stdin: boolean,
  resize: (size: TerminalSize) => Promise<unknown>,
): Promise<void> {
  const { channel, size } = options;
  socket.on("error", () => undefined); // the read loop below ends with it
  const tryResize = async (s: TerminalSize): Promise<void> => {
    // A terminal of size 0 is no size; a process that has just ended cannot be resized: both harmless.
    if (s.height > 0 && s.width > 0) await resize(s).catch(() => undefined);
  };
  if (tty && size !== undefined) await tryResize(size);
  channel.onInput(async (input: CallInput) => {
    switch (input.$case) {
      case "stdin":
        if (stdin && socket.writable) await write(socket, input.value, channel.signal);
        return;
      case "resize":
        if (tty) await tryResize(input.value);
        return;
      case "closeStdin":
        // Half-closes the connection: the daemon closes the process's stdin (cat then ends).
        if (stdin && input.value && socket.writable) socket.end();
        return;
    }
  });
  const demux = tty ? undefined : new OutputDemux();
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      if (demux === undefined) {
        await channel.send({
          $case: "data",
          value: { stream: ContainerOutputStream.TTY, data: chunk },
        });
        continue;
      }
      for (const out of demux.push(chunk)) await channel.send({ $case: "data", value: out });
    }
  } catch (err: unknown) {
    // A connection cut by a cancel ends the output; anything else is the daemon's failure.
    if (!channel.signal.aborted) throw err;
  }
}

/** Writes to the daemon, waiting while its connection is full. */
async function write(socket: Duplex, data: Uint8Array, signal: AbortSignal): Promise<void> {
  if (socket.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off("drain", done).off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    socket.on("drain", done).on("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** `look` until it gives a value (at most `tries` times); undefined if it never does. */
async function pollUntil(
  signal: AbortSignal,
  tries: number,
  look: () => Promise<number | undefined>,
): Promise<number | undefined> {
  let delay = POLL_MS;
  for (let i = 0; i < tries && !signal.aborted; i++) {
    const value = await look();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
  return undefined;
}

/**
 * Kills an exec's process, found by the pid the daemon reports (the agent runs beside its daemon,
 * in the same pid namespace), and its process group when it leads one (a TTY's shell and what it
 * started). Docker has no call to end an exec. The pid is used only when it is the container's:
 * in the pid namespace of the container's first process, which is not the agent's own.
 */
export async function killExec(exec: Docker.Exec, container: Docker.Container, logger: Logger): Promise<void> {
  try {
    const info = await exec.inspect();
    const pid = info.Pid;
    if (!info.Running || typeof pid !== "number" || pid <= 0) return;
    const initPid = (await container.inspect()).State.Pid;
    if (!(await inContainer(pid, initPid))) {
      logger.warn({ exec: exec.id, pid }, "cannot kill the exec's process: the agent does not see the daemon's pids");
      return;
    }
    const group = (await processGroup(pid)) === pid && killPid(-pid);
    if (!killPid(pid) && !group) return;
    const left = await pollUntil(AbortSignal.timeout(5000), 20, async () =>
      (await exec.inspect()).Running ? undefined : 0,
    );
    if (left === undefined) logger.warn({ exec: exec.id, pid }, "the exec's process is still running after a kill");
  } catch (err: unknown) {
    logger.warn({ exec: exec.id, err: errorMessage(err) }, "cannot end an exec whose client left");
  }
}

/** Whether `pid`, as this process sees it, is in the pid namespace of the container's `initPid`. */
async function inContainer(pid: number, initPid: number): Promise<boolean> {
  const ns = (p: number | "self"): Promise<string | undefined> => readlink(`/proc/${p}/ns/pid`).catch(() => undefined);
  if (initPid <= 0) return false;
  const [mine, its, init] = await Promise.all([ns("self"), ns(pid), ns(initPid)]);
  return its !== undefined && its === init && its !== mine;
}

/** The process group of `pid` (from /proc/PID/stat), or undefined. */
async function processGroup(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILL; false when there is no such process here. */
function killPid(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
