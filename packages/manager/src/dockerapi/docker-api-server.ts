// The Docker Engine API (v1.41 subset for swarm commands) that a manager serves on an address of
// its own (`shoal manager --docker-api HOST:PORT`), for the stock docker CLI and Docker SDKs.
// It is a client of this manager's own Control and Logs APIs (see control-calls.ts).
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import {
  ErrorCode,
  ShoalError,
  componentLogger,
  errorMessage,
  pki,
  type Clock,
  type Logger,
  type TlsMaterial,
} from "@shoal/shared";
import { LoopbackContainerCalls, type ContainerCalls } from "../containers/container-calls-client.js";
import { addContainerRoutes, closeUpgraded, containerUpgrades } from "./container-routes.js";
import type { DockerApiContext } from "./context.js";
import { LoopbackControl, type ControlCaller, type ImagePullCaller } from "./control-calls.js";
import { inspectImage } from "./image-inspect.js";
import { imageHandlers } from "./images.js";
import { LoopbackLogs, logHandlers, type LogsCaller } from "./logs.js";
import { eventsHandler } from "./events.js";
import { LoopbackEvents, type EventsCaller } from "../events/loopback-events.js";
import type { ManagerSettings } from "./manager-settings.js";
import { distribution, networkHandlers } from "./networks.js";
import { secretHandlers } from "./secrets.js";
import { nodeHandlers } from "./nodes.js";
import { Router } from "./router.js";
import { serviceHandlers } from "./services.js";
import { swarmHandlers } from "./swarm.js";
import { info, ping, version } from "./system.js";
import { taskHandlers } from "./tasks.js";

export interface DockerApiOptions {
  /** HOST:PORT to listen on; port 0 picks a free one. */
  readonly listen: string;
  /** The manager's own gRPC address (Control and Logs), reachable from this process. */
  readonly managerAddr: string;
  readonly nodeId: string;
  readonly advertise: string;
  /**
   * This manager's certificate: the API is served over TLS with it and requires a client
   * certificate from the cluster's CA (docker --tlsverify with DOCKER_CERT_PATH); the manager's
   * own gRPC is called with it too.
   */
  readonly material: TlsMaterial;
  /** Why a verified peer may not use the API (a worker, a revoked client), or undefined. */
  readonly refuse?: (identity: pki.CertIdentity) => string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The manager's Raft and dispatcher settings, shown as the swarm's; default: a manager's defaults. */
  readonly settings?: ManagerSettings | undefined;
  /** For tests: other ways in than gRPC to `managerAddr`. */
  readonly control?: ControlCaller;
  readonly logs?: LogsCaller;
  readonly images?: ImagePullCaller;
  readonly containers?: ContainerCalls;
  readonly events?: EventsCaller;
}

/** Every route of the API, on a router. */
export function dockerRoutes(ctx: DockerApiContext, logger: Logger): Router {
  const router = new Router(logger);
  const nodes = nodeHandlers(ctx);
  const services = serviceHandlers(ctx);
  const tasks = taskHandlers(ctx);
  const networks = networkHandlers(ctx);
  const logs = logHandlers(ctx);
  const swarm = swarmHandlers(ctx);
  const images = imageHandlers(ctx);
  router
    .on("GET", "/_ping", ping)
    .on("GET", "/version", version)
    .on("GET", "/info", info(ctx))
    .on("GET", "/events", eventsHandler(ctx))
    .on("GET", "/swarm", swarm["inspect"]!)
    .on("POST", "/swarm/update", swarm["update"]!)
    .on("GET", "/swarm/unlockkey", swarm["unlockKey"]!)
    .on("POST", "/swarm/init", swarm["init"]!)
    .on("POST", "/swarm/join", swarm["join"]!)
    .on("POST", "/swarm/leave", swarm["leave"]!)
    .on("POST", "/swarm/unlock", swarm["unlock"]!)
    .on("GET", "/nodes", nodes["list"]!)
    .on("GET", "/nodes/:id", nodes["inspect"]!)
    .on("POST", "/nodes/:id/update", nodes["update"]!)
    .on("DELETE", "/nodes/:id", nodes["remove"]!)
    .on("GET", "/services", services["list"]!)
    .on("POST", "/services/create", services["create"]!)
    .on("GET", "/services/:id", services["inspect"]!)
    .on("POST", "/services/:id/update", services["update"]!)
    .on("DELETE", "/services/:id", services["remove"]!)
    .on("GET", "/services/:id/logs", logs["service"]!)
    .on("GET", "/tasks", tasks["list"]!)
    .on("GET", "/tasks/:id", tasks["inspect"]!)
    .on("GET", "/tasks/:id/logs", logs["task"]!)
    .on("GET", "/networks", networks["list"]!)
    .on("POST", "/networks/create", networks["create"]!)
    .on("GET", "/networks/:id", networks["inspect"]!)
    .on("DELETE", "/networks/:id", networks["remove"]!)
    .on("GET", "/distribution/*name/json", distribution)
    .on("POST", "/images/create", images["create"]!)
    .on("GET", "/images/*name/json", (req) => inspectImage(ctx, req));
  for (const kind of ["secret", "config"] as const) {
    const h = secretHandlers(ctx, kind);
    router
      .on("GET", `/${kind}s`, h["list"]!)
      .on("POST", `/${kind}s/create`, h["create"]!)
      .on("GET", `/${kind}s/:id`, h["inspect"]!)
      .on("POST", `/${kind}s/:id/update`, h["update"]!)
      .on("DELETE", `/${kind}s/:id`, h["remove"]!);
  }
  addContainerRoutes(router, ctx);
  return router;
}

export class DockerApiServer {
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly loopback: { close(): void }[] = [];
  private stopping: Promise<void> | undefined;
  /** The address served, once started. */
  address = "";

  constructor(private readonly options: DockerApiOptions) {
    this.logger = componentLogger(options.logger, "docker-api");
    let control = options.control;
    let images = options.images;
    if (!control) {
      const c = new LoopbackControl(options.managerAddr, options.material);
      this.loopback.push(c);
      control = c;
      images ??= c;
    }
    let logs = options.logs;
    if (!logs) {
      const l = new LoopbackLogs(options.managerAddr, options.material);
      this.loopback.push(l);
      logs = l;
    }
    let containers = options.containers;
    if (!containers) {
      const c = new LoopbackContainerCalls(options.managerAddr, options.material);
      this.loopback.push(c);
      containers = c;
    }
    let events = options.events;
    if (!events) {
      const e = new LoopbackEvents(options.managerAddr, options.material);
      this.loopback.push(e);
      events = e;
    }
    const ctx: DockerApiContext = {
      control,
      logs,
      containers,
      events,
      images,
      nodeId: options.nodeId,
      advertise: options.advertise,
      clock: options.clock,
      logger: this.logger,
      ...(options.settings ? { settings: options.settings } : {}),
    };
    const router = dockerRoutes(ctx, this.logger);
    const { material } = options;
    const context = (): { ca: string; cert: string; key: string } => ({
      ca: material.files.caPem,
      cert: material.files.certChainPem,
      key: material.files.keyPem,
    });
    // Peers without a certificate of the cluster's CA fail the handshake.
    const refusal = (socket: TLSSocket): string | undefined => {
      try {
        return options.refuse?.(pki.peerIdentity(socket.getPeerCertificate().raw));
      } catch (err: unknown) {
        return `the client certificate cannot be used: ${errorMessage(err)}`;
      }
    };
    this.server = createServer({ ...context(), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const reason = refusal(req.socket as TLSSocket);
      if (reason !== undefined) {
        this.logger.warn({ peer: req.socket.remoteAddress, reason }, "docker API call refused");
        res.writeHead(403, { "Content-Type": "application/json" }).end(JSON.stringify({ message: reason }));
        return;
      }
      void router.handle(req, res);
    });
    this.server.on("upgrade", containerUpgrades(ctx, refusal, this.logger));
    this.closeUpgraded = () => closeUpgraded(ctx);
    // A request Node's HTTP parser refuses (a byte not allowed in a URL, an unknown method, ...)
    // never reaches the router: answered here with a JSON message as every other refusal, not
    // Node's bare 400.
    this.server.on("clientError", (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => {
      if (err.code === "ECONNRESET" || !socket.writable) {
        socket.destroy();
        return;
      }
      const [status, reason] =
        err.code === "HPE_HEADER_OVERFLOW" ? [431, "Request Header Fields Too Large"] : [400, "Bad Request"];
      const body = JSON.stringify({ message: `malformed HTTP request: ${err.message}` });
      // The answer to a HEAD has no body.
      const head = err.rawPacket?.subarray(0, 5).toString("latin1") === "HEAD ";
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? "" : body}`,
      );
    });
    // A renewed certificate applies to new connections.
    this.onRenewed = () => this.server.setSecureContext(context());
    material.addIdentityCertificateListener(this.onRenewed);
  }

  private readonly onRenewed: () => void;
  private readonly closeUpgraded: () => void;

  async start(): Promise<void> {
    const at = this.options.listen.lastIndexOf(":");
    const host = this.options.listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
    const port = Number(this.options.listen.slice(at + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (err) =>
        reject(
          new ShoalError(
            ErrorCode.Unavailable,
            `cannot serve the Docker API on ${this.options.listen}: ${err.message}`,
          ),
        ),
      );
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address();
    const boundPort = typeof bound === "object" && bound ? bound.port : port;
    this.address = `${this.options.listen.slice(0, at)}:${boundPort}`;
    this.logger.info({ address: this.address }, "serving the Docker Engine API");
  }

  /** Stops listening and ends open connections (log streams included). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.closeUpgraded();
    }).finally(() => {
      this.options.material.removeIdentityCertificateListener(this.onRenewed);
      for (const c of this.loopback) c.close();
    });
    return this.stopping;
  }
}
