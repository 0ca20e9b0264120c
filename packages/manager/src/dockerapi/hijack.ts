// Docker's hijacked connections: the CLI sends POST /exec/{id}/start and /containers/{id}/attach
// with `Connection: Upgrade, Upgrade: tcp`; Node hands such a request to the server's `upgrade`
// listener with the raw socket. The request body (the exec start's JSON) is read from the socket
// here, then the answer is `101 UPGRADED` and the socket carries the streams: the container's output
// (raw with a TTY, else Docker's frames) one way and stdin the other; the client's half-close ends
// stdin; the socket's close ends the call. Before the 101, failures are Docker's JSON errors.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import {
  ContainerOp,
  InvalidArgumentError,
  errorMessage,
  every,
  isShoalError,
  type Logger,
  type Timer,
} from "@shoal/shared";
import { openStarted, pipeCall } from "./call-stream.js";
import { adminCaller, openMessage } from "./container-call.js";
import type { AttachSessions } from "./containers.js";
import type { DockerApiContext } from "./context.js";
import { checkStartBody, runExec, type ExecStore } from "./exec.js";
import { API_VERSION, MAX_BODY_BYTES, STATUS_BY_CODE } from "./router.js";

const EXEC_START = /^(?:\/v\d+\.\d+)?\/exec\/([^/]+)\/start$/;
const ATTACH = /^(?:\/v\d+\.\d+)?\/containers\/([^/]+)\/attach$/;
/**
 * How often an exec whose client half-closed its side is checked for the client being gone: the
 * docker CLI half-closes at once when it sends no stdin, so the end of input does not tell; a
 * write does (a closed peer answers it with a reset). The probe is an empty frame of Docker's
 * stream (nothing to the client) or, on a TTY the client typed into, a NUL (nothing on a terminal).
 */
export const PROBE_MS = 2000;
const EMPTY_FRAME = Buffer.alloc(8, 0);
const NUL = Buffer.alloc(1, 0);
const UPGRADED =
  "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n" +
  "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

/** An HTTP answer written on the raw socket, which then closes. */
function answer(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${status < 300 ? "OK" : "Error"}\r\nApi-Version: ${API_VERSION}\r\nOstype: linux\r\n` +
      `Server: Shoal (linux)\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
      `Connection: close\r\n\r\n${text}`,
  );
}

/** Reads the request body (Content-Length bytes) from what came with the headers and the socket. */
function readBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers["content-length"] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
    return Promise.reject(new InvalidArgumentError("bad Content-Length", { field: "body" }));
  }
  let got = head;
  const done = (): Buffer => {
    if (got.length > length) socket.unshift(got.subarray(length));
    return got.subarray(0, length);
  };
  if (got.length >= length) return Promise.resolve(done());
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length < length) return;
      cleanup();
      socket.pause();
      resolve(done());
    };
    const onEnd = (): void => {
      cleanup();
      reject(new InvalidArgumentError("the connection ended inside the body", { field: "body" }));
    };
    const cleanup = (): void => void socket.off("data", onData).off("end", onEnd);
    socket.on("data", onData).once("end", onEnd);
  });
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    throw new InvalidArgumentError("is not valid JSON", { field: "body" });
  }
}

/** The `upgrade` listener of the Docker API's server; `refuse` is the server's certificate check. */
export function hijackListener(
  ctx: DockerApiContext,
  execs: ExecStore,
  attaches: AttachSessions,
  refuse: (socket: TLSSocket) => string | undefined,
  logger: Logger,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    // The client's half-close ends stdin only: the output goes on.
    socket.allowHalfOpen = true;
    socket.on("error", (err) => logger.debug({ err: errorMessage(err) }, "hijacked connection failed"));
    const abort = new AbortController();
    socket.once("close", () => abort.abort());
    let upgraded = false;
    const serve = async (): Promise<void> => {
      const reason = refuse(socket as TLSSocket);
      if (reason !== undefined) return answer(socket, 403, { message: reason });
      const path = new URL(req.url ?? "/", "http://docker").pathname;
      const exec = EXEC_START.exec(path);
      const attach = ATTACH.exec(path);
      if (req.method !== "POST" || (!exec && !attach)) {
        return answer(socket, 404, { message: `page not found: ${req.method} ${path}` });
      }
      const caller = adminCaller(socket as TLSSocket);
      const body = parseJson(await readBody(req, socket, head));
      const ready = (): void => {
        upgraded = true;
        socket.write(UPGRADED);
      };
      if (exec) {
        checkStartBody(body);
        const record = execs.get(decodeURIComponent(exec[1]!));
        const { tty, attachStdin } = record.config;
        const probe = tty && !attachStdin ? undefined : tty ? NUL : EMPTY_FRAME;
        let timer: Timer | undefined;
        const start = (): void => {
          ready();
          (socket as TLSSocket).setKeepAlive(true, PROBE_MS);
          if (probe) timer = every(ctx.clock, PROBE_MS, () => socket.readableEnded && socket.write(probe));
        };
        try {
          await runExec(ctx, record, caller, { out: socket, input: socket, ready: start }, abort.signal);
        } finally {
          timer?.cancel();
        }
      } else {
        await serveAttach(ctx, attaches, decodeURIComponent(attach![1]!), req, socket, caller, ready, abort.signal);
      }
      socket.end();
    };
    serve().catch((err: unknown) => {
      if (upgraded) socket.destroy();
      else answer(socket, isShoalError(err) ? STATUS_BY_CODE[err.code] : 500, { message: errorMessage(err) });
    });
  };
}

const flag = (query: URLSearchParams, name: string): boolean => ["1", "true", "True"].includes(query.get(name) ?? "");

async function serveAttach(
  ctx: DockerApiContext,
  attaches: AttachSessions,
  ref: string,
  req: IncomingMessage,
  socket: Duplex,
  caller: string,
  ready: () => void,
  signal: AbortSignal,
): Promise<void> {
  const q = new URL(req.url ?? "/", "http://docker").searchParams;
  const attach = {
    stdin: flag(q, "stdin"),
    stdout: flag(q, "stdout"),
    stderr: flag(q, "stderr"),
    logs: flag(q, "logs"),
    stream: flag(q, "stream"),
    detachKeys: q.get("detachKeys") ?? "",
  };
  const call = await openStarted(ctx, openMessage(ref, ContainerOp.ATTACH, { attach, caller }), signal);
  const forget = attaches.add([ref, call.started.containerId], call.session);
  try {
    ready();
    await pipeCall(call, socket, attach.stdin ? socket : undefined, false);
  } finally {
    forget();
  }
}
