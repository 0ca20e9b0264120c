// The container and exec routes of the Docker API, and its upgraded (hijacked) connections, with
// the state they share on this manager: the execs created here and the open attaches.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Logger } from "@shoal/shared";
import { AttachSessions, containerHandlers } from "./containers.js";
import type { DockerApiContext } from "./context.js";
import { ExecStore, execHandlers } from "./exec.js";
import { hijackListener } from "./hijack.js";
import type { Router } from "./router.js";

interface Shared {
  readonly execs: ExecStore;
  readonly attaches: AttachSessions;
  /** The upgraded connections open now (the HTTP server's own closing does not reach them). */
  readonly sockets: Set<Duplex>;
}

const shared = new WeakMap<DockerApiContext, Shared>();

function sharedOf(ctx: DockerApiContext): Shared {
  let s = shared.get(ctx);
  if (!s) {
    s = { execs: new ExecStore(() => ctx.clock.now()), attaches: new AttachSessions(), sockets: new Set() };
    shared.set(ctx, s);
  }
  return s;
}

export function addContainerRoutes(router: Router, ctx: DockerApiContext): void {
  const { execs, attaches } = sharedOf(ctx);
  const c = containerHandlers(ctx, attaches);
  const e = execHandlers(ctx, execs);
  router
    .on("GET", "/containers/json", c["list"]!)
    .on("GET", "/containers/:id/json", c["inspect"]!)
    .on("GET", "/containers/:id/top", c["top"]!)
    .on("GET", "/containers/:id/stats", c["stats"]!)
    .on("GET", "/containers/:id/logs", c["logs"]!)
    .on("POST", "/containers/:id/resize", c["resize"]!)
    .on("POST", "/containers/:id/wait", c["wait"]!)
    .on("POST", "/containers/:id/exec", e["create"]!)
    .on("POST", "/exec/:id/start", e["start"]!)
    .on("POST", "/exec/:id/resize", e["resize"]!)
    .on("GET", "/exec/:id/json", e["inspect"]!);
}

/** The server's `upgrade` listener: exec start and attach over a hijacked connection. */
export function containerUpgrades(
  ctx: DockerApiContext,
  refuse: (socket: TLSSocket) => string | undefined,
  logger: Logger,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { execs, attaches, sockets } = sharedOf(ctx);
  const listener = hijackListener(ctx, execs, attaches, refuse, logger);
  return (req, socket, head) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    listener(req, socket, head);
  };
}

/** Ends every upgraded connection (their execs and attaches end with them): the server stops. */
export function closeUpgraded(ctx: DockerApiContext): void {
  for (const socket of sharedOf(ctx).sockets) socket.destroy();
}
