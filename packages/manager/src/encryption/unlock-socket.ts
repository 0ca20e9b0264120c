// The one thing a locked manager serves: a unix socket in its data dir (DATA_DIR/unlock.sock, mode 0600,
// so only the user that runs the manager can reach it) that takes the unlock key. Nothing else listens
// until the manager is unlocked: no Raft, no Control API, no dispatcher.
//
// One request per connection, one JSON line each way (at most 4 KiB); a connection silent for
// IDLE_MS (on the injected clock) is closed:
//   {"op":"status"}                        -> {"ok":true,"locked":true}
//   {"op":"unlock","unlockKey":"SWMKEY-1-..."} -> {"ok":true,"locked":false} | {"ok":false,"code":"INVALID_ARGUMENT","message":"..."}
import { chmod, unlink } from "node:fs/promises";
import type { Server, Socket } from "node:net";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import type { Clock, Logger } from "@shoal/shared";
import { ErrorCode, ShoalError, errorMessage, isShoalError } from "@shoal/shared";
import { UnlockKey } from "./unlock-key.js";

export const UNLOCK_SOCKET_NAME = "unlock.sock";
const MAX_LINE = 4096;
const IDLE_MS = 10_000;

export function unlockSocketPath(dataDir: string): string {
  return join(dataDir, UNLOCK_SOCKET_NAME);
}

/** Calls `onIdle` once `socket` has received nothing for IDLE_MS (Socket#setTimeout on a Clock). */
function whenIdle(clock: Clock, socket: Socket, onIdle: () => void): void {
  let timer = clock.setTimeout(onIdle, IDLE_MS);
  socket.on("data", () => {
    timer.cancel();
    timer = clock.setTimeout(onIdle, IDLE_MS);
  });
  socket.once("close", () => timer.cancel());
}

interface Reply {
  ok: boolean;
  locked?: boolean;
  code?: string;
  message?: string;
}

export interface UnlockSocketOptions {
  readonly dataDir: string;
  /** Check the key (throws InvalidUnlockKeyError when wrong) and unlock; resolves once unlocked. */
  unlock(key: UnlockKey): Promise<void>;
  /** Times idle connections out. */
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Serves the unlock socket until stop(). */
export class UnlockSocket {
  private server: Server | undefined;
  private locked = true;
  private stopped = false;
  private readonly sockets = new Set<Socket>();
  private resolveUnlocked: () => void = () => undefined;
  /** Resolves once an unlock succeeded and its answer was sent (stop() after it loses nothing). */
  readonly unlocked: Promise<void> = new Promise((resolve) => (this.resolveUnlocked = resolve));

  constructor(private readonly options: UnlockSocketOptions) {}

  get path(): string {
    return unlockSocketPath(this.options.dataDir);
  }

  async start(): Promise<void> {
    await unlink(this.path).catch(() => undefined); // a stale socket of a previous run
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => resolve());
    });
    await chmod(this.path, 0o600);
    this.options.logger.warn({ socket: this.path }, "manager is locked: waiting for `shoal manager unlock`");
  }

  /** Close the socket and every connection. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    whenIdle(this.options.clock, socket, () => socket.destroy());
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let buf = "";
    socket.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl < 0 && buf.length <= MAX_LINE) return;
      socket.removeAllListeners("data");
      const line = nl < 0 ? undefined : buf.slice(0, nl);
      void this.answer(line).then((reply) =>
        socket.end(JSON.stringify(reply) + "\n", () => {
          if (reply.ok && reply.locked === false) this.resolveUnlocked();
        }),
      );
    });
  }

  private async answer(line: string | undefined): Promise<Reply> {
    if (line === undefined) return refuse(ErrorCode.InvalidArgument, `request over ${MAX_LINE} bytes`);
    let req: { op?: unknown; unlockKey?: unknown };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      return refuse(ErrorCode.InvalidArgument, "request is not JSON");
    }
    if (req?.op === "status") return { ok: true, locked: this.locked };
    if (req?.op !== "unlock") return refuse(ErrorCode.InvalidArgument, 'op must be "status" or "unlock"');
    if (!this.locked) return { ok: true, locked: false };
    if (typeof req.unlockKey !== "string") return refuse(ErrorCode.InvalidArgument, "unlockKey is missing");
    try {
      await this.options.unlock(UnlockKey.parse(req.unlockKey));
      this.locked = false;
      this.options.logger.info("manager unlocked");
      return { ok: true, locked: false };
    } catch (err: unknown) {
      this.options.logger.warn({ reason: errorMessage(err) }, "unlock refused");
      return isShoalError(err) ? refuse(err.code, err.message) : refuse(ErrorCode.Internal, errorMessage(err));
    }
  }
}

function refuse(code: string, message: string): Reply {
  return { ok: false, code, message };
}

/** The answer of a locked manager's socket, as an error when it refused. */
export class UnlockRefusedError extends ShoalError {}

export interface CallUnlockSocketOptions {
  /** Gives up when the manager sends nothing for IDLE_MS. */
  readonly clock: Clock;
  readonly signal?: AbortSignal;
}

/** Ask the manager whose data dir is `dataDir`: unlock it with `unlockKey`, or (undefined) its status. */
export async function callUnlockSocket(
  dataDir: string,
  unlockKey: string | undefined,
  options: CallUnlockSocketOptions,
): Promise<{ locked: boolean }> {
  const { clock, signal } = options;
  const path = unlockSocketPath(dataDir);
  const request = unlockKey === undefined ? { op: "status" } : { op: "unlock", unlockKey };
  const text = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(path);
    let out = "";
    const abort = (): void => {
      socket.destroy();
      reject(new ShoalError(ErrorCode.Cancelled, "cancelled"));
    };
    signal?.addEventListener("abort", abort, { once: true });
    whenIdle(clock, socket, () => {
      socket.destroy();
      reject(new ShoalError(ErrorCode.DeadlineExceeded, `no answer from ${path}`));
    });
    socket.on("connect", () => socket.write(JSON.stringify(request) + "\n"));
    socket.on("data", (d: Buffer) => (out += d.toString("utf8")));
    socket.on("end", () => {
      signal?.removeEventListener("abort", abort);
      resolve(out);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", abort);
      reject(
        err.code === "ENOENT" || err.code === "ECONNREFUSED"
          ? new ShoalError(
              ErrorCode.FailedPrecondition,
              `no locked manager at ${path} (it is not running, or not locked)`,
              { cause: err },
            )
          : err,
      );
    });
  });
  let reply: Reply;
  try {
    reply = JSON.parse(text) as Reply;
  } catch (err: unknown) {
    throw new ShoalError(ErrorCode.Internal, `unreadable answer from ${path}`, { cause: err });
  }
  if (!reply.ok) {
    const code = Object.values(ErrorCode).includes(reply.code as ErrorCode)
      ? (reply.code as ErrorCode)
      : ErrorCode.Internal;
    throw new UnlockRefusedError(code, reply.message ?? "refused");
  }
  return { locked: reply.locked ?? false };
}
