// An exec's or attach's streams between a docker client and a container call: the call is opened
// and its `started` awaited first (so that a failure is still an HTTP status), then the output goes
// to the client (raw with a TTY, else Docker's frames), the client's input to the call (stdin, then
// close_stdin at its end), until `exit`.
import type { Readable, Writable } from "node:stream";
import {
  ContainerOp,
  LogStream,
  UnavailableError,
  errorMessage,
  fromServiceError,
  type ContainerCallOpen,
  type ContainerCallResponse,
  type ContainerCallStarted,
} from "@shoal/shared";
import type { ContainerCallSession } from "../containers/container-calls-client.js";
import { asNoSuchContainer, containerCalls, openMessage, outputBytes } from "./container-call.js";
import type { DockerApiContext } from "./context.js";
import { frame } from "./log-frames.js";

export interface StartedCall {
  readonly session: ContainerCallSession;
  readonly started: ContainerCallStarted;
  readonly rest: AsyncIterator<ContainerCallResponse>;
}

/** Opens a call and waits for its `started`; NOT_FOUND is Docker's "No such container". */
export async function openStarted(
  ctx: DockerApiContext,
  open: ContainerCallOpen,
  signal: AbortSignal,
): Promise<StartedCall> {
  const session = containerCalls(ctx).open(open, signal);
  const rest = session.responses[Symbol.asyncIterator]();
  try {
    const first = await rest.next();
    const out = first.done ? undefined : first.value.output;
    if (out?.$case === "error") throw fromServiceError({ code: out.value.code, details: out.value.message });
    if (out?.$case !== "started") throw new UnavailableError(`the call on ${open.container} ended before it started`);
    return { session, started: out.value, rest };
  } catch (err: unknown) {
    throw asNoSuchContainer(err, open.container);
  }
}

/**
 * The task whose container `ref` names, and whether the container has a TTY: found as every
 * container call finds it (an inspect, ended once it answered); 404 as Docker when there is none.
 */
export async function containerTask(
  ctx: DockerApiContext,
  ref: string,
  signal: AbortSignal,
): Promise<{ taskId: string; tty: boolean }> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  signal.addEventListener("abort", stop, { once: true });
  try {
    const call = await openStarted(ctx, openMessage(ref, ContainerOp.INSPECT), abort.signal);
    const next = await call.rest.next().catch(() => undefined);
    const out = next?.done === false ? next.value.output : undefined;
    let tty = false;
    if (out?.$case === "json") {
      try {
        tty =
          (JSON.parse(Buffer.from(out.value).toString("utf8")) as { Config?: { Tty?: unknown } }).Config?.Tty === true;
      } catch {
        // Not JSON: taken as no TTY.
      }
    }
    return { taskId: call.started.taskId, tty };
  } finally {
    signal.removeEventListener("abort", stop);
    abort.abort();
  }
}

function writeOut(out: Writable, data: Buffer): Promise<void> | undefined {
  if (out.destroyed || out.writableEnded) return undefined;
  if (out.write(data)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      out.off("drain", done).off("close", done);
      resolve();
    };
    out.once("drain", done).once("close", done);
  });
}

/**
 * Pipes a started call to the client until it ends; resolves with the exit code, or undefined when
 * the call ended without one (then the client has read why, on stderr or the terminal).
 */
export async function pipeCall(
  call: StartedCall,
  out: Writable,
  input: Readable | undefined,
  tty: boolean,
): Promise<number | undefined> {
  if (input) {
    input.on("data", (chunk: Buffer) => call.session.write({ $case: "stdin", value: chunk }));
    input.once("end", () => call.session.write({ $case: "closeStdin", value: true }));
    // Reading the request body may have paused it: a new `data` listener does not resume it then.
    input.resume();
  }
  try {
    for (let next = await call.rest.next(); !next.done; next = await call.rest.next()) {
      const o = next.value.output;
      if (o?.$case === "data") await writeOut(out, outputBytes(o.value));
      else if (o?.$case === "exit") return o.value.exitCode;
      else if (o?.$case === "error") throw fromServiceError({ code: o.value.code, details: o.value.message });
    }
  } catch (err: unknown) {
    const text = `Error: ${errorMessage(err)}\n`;
    await writeOut(
      out,
      tty ? Buffer.from(`\r\n${text.replace(/\n/g, "\r\n")}`) : frame(LogStream.STDERR, Buffer.from(text)),
    );
  }
  return undefined;
}
