// The Docker API's side of a container call (ContainerCall on this manager's own Containers service):
// who may open one, the open message, a one-answer call (inspect, top, one stats sample), and the
// output of exec and attach as Docker writes it (raw with a TTY, else its multiplexed frames).
import type { TLSSocket } from "node:tls";
import type { ContainerOp } from "@shoal/shared";
import {
  ContainerOutputStream,
  ErrorCode,
  LogStream,
  ShoalError,
  UnavailableError,
  errorMessage,
  fromServiceError,
  pki,
  type ContainerCallOpen,
  type ContainerOutputChunk,
} from "@shoal/shared";
import type { ContainerCalls } from "../containers/container-calls-client.js";
import type { DockerApiContext } from "./context.js";
import { frame } from "./log-frames.js";

export const ADMIN_ONLY = "exec and attach need an admin client certificate";

/** Any NOT_FOUND becomes Docker's "No such container: REF" (a 404); other errors stay as they are. */
export function asNoSuchContainer(err: unknown, ref: string): unknown {
  return err instanceof ShoalError && err.code === ErrorCode.NotFound
    ? new ShoalError(ErrorCode.NotFound, `No such container: ${ref}`)
    : err;
}

/** The Containers service, or 503 when this manager has none. */
export function containerCalls(ctx: DockerApiContext): ContainerCalls {
  if (!ctx.containers) throw new UnavailableError("this manager serves no container calls");
  return ctx.containers;
}

/**
 * The name in the admin client certificate the connection was verified with; 403 for any other
 * certificate (a manager's or a worker's): exec and attach are for operators only.
 */
export function adminCaller(socket: TLSSocket): string {
  let identity: pki.CertIdentity;
  try {
    identity = pki.peerIdentity(socket.getPeerCertificate().raw);
  } catch (err: unknown) {
    throw new ShoalError(ErrorCode.PermissionDenied, `${ADMIN_ONLY}: ${errorMessage(err)}`);
  }
  if (identity.role !== "client") throw new ShoalError(ErrorCode.PermissionDenied, ADMIN_ONLY);
  return identity.nodeId;
}

/** A ContainerCallOpen with every field present (the unused ones empty). */
export function openMessage(
  container: string,
  op: ContainerOp,
  fields: Partial<ContainerCallOpen> = {},
): ContainerCallOpen {
  return {
    container,
    op,
    exec: undefined,
    attach: undefined,
    top: undefined,
    stats: undefined,
    size: undefined,
    caller: "",
    ...fields,
  };
}

/**
 * Runs a call, handing each JSON answer to `onJson`; resolves when the call ends. A failure before
 * the first answer rejects (NOT_FOUND as Docker's "No such container"); `onJson` may throw to stop.
 */
export async function eachJson(
  ctx: DockerApiContext,
  open: ContainerCallOpen,
  signal: AbortSignal,
  onJson: (json: Buffer) => void | Promise<void>,
): Promise<void> {
  const session = containerCalls(ctx).open(open, signal);
  try {
    for await (const res of session.responses) {
      const out = res.output;
      if (out?.$case === "json") await onJson(Buffer.from(out.value));
      else if (out?.$case === "error") throw fromServiceError({ code: out.value.code, details: out.value.message });
    }
  } catch (err: unknown) {
    throw asNoSuchContainer(err, open.container);
  }
}

/** The first JSON answer of a call (inspect, top, one stats sample), parsed. */
export async function callJson(ctx: DockerApiContext, open: ContainerCallOpen, signal: AbortSignal): Promise<unknown> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  signal.addEventListener("abort", stop, { once: true });
  let answer: Buffer | undefined;
  try {
    await eachJson(ctx, open, abort.signal, (json) => {
      answer = json;
      abort.abort();
    }).catch((err: unknown) => {
      if (answer === undefined) throw err;
    });
  } finally {
    signal.removeEventListener("abort", stop);
  }
  if (answer === undefined)
    throw new UnavailableError(`the container call on ${open.container} ended without an answer`);
  try {
    return JSON.parse(answer.toString("utf8")) as unknown;
  } catch {
    throw new ShoalError(ErrorCode.Internal, "the node's answer is not JSON");
  }
}

/** An output chunk as the client reads it: raw for a TTY, else a frame of Docker's multiplexed stream. */
export function outputBytes(chunk: ContainerOutputChunk): Buffer {
  const data = Buffer.from(chunk.data);
  switch (chunk.stream) {
    case ContainerOutputStream.STDERR:
      return frame(LogStream.STDERR, data);
    case ContainerOutputStream.STDOUT:
      return frame(LogStream.STDOUT, data);
    default:
      return data;
  }
}
