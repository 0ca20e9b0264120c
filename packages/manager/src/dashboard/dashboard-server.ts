// The web dashboard a manager serves (`shoal manager --dashboard HOST:PORT`, docs/dashboard.md):
// HTTPS with the manager's own certificate (valid for its addresses; the browser trusts the
// cluster's root), no client certificate (browsers). Every request but GET /login needs a live
// session (guard.ts), checked against this manager's replica of the store on each request and,
// for open streams, at each heartbeat; the API is api-routes.ts, the page the dashboard package's.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import {
  ErrorCode,
  ShoalError,
  componentLogger,
  errorMessage,
  every,
  isShoalError,
  type Clock,
  type Logger,
  type Timer,
  type TlsMaterial,
} from "@shoal/shared";
import { LoopbackContainerCalls, type ContainerCalls } from "../containers/container-calls-client.js";
import { LoopbackControl, type ControlCaller } from "../dockerapi/control-calls.js";
import { LoopbackLogs, type LogsCaller } from "../dockerapi/logs.js";
import type { MemoryStore } from "../state/store/index.js";
import { dashboardApi } from "./api-routes.js";
import { findSession, LINK_USED } from "./credentials.js";
import { dashboardAssets, type DashboardAsset } from "./dashboard-package.js";
import { DashboardFeed } from "./feed.js";
import { SESSION_COOKIE, csrfRefusal, parseCookies, sendRefusal, sessionCookies, setSecurityHeaders } from "./guard.js";
import { newToken } from "./credentials.js";
import { LoopbackEvents } from "./streams.js";

/** Comments sent on every open stream this often, so that proxies and browsers keep them. */
export const HEARTBEAT_MS = 15_000;
/** How long a redeemed session may take to reach this manager's replica. */
const REPLICA_WAIT_MS = 5000;

export interface DashboardServerOptions {
  /** HOST:PORT to listen on; port 0 picks a free one. */
  readonly listen: string;
  /** The host of the dashboard's URL when it listens on a wildcard (the manager's advertised one). */
  readonly advertiseHost: string;
  /** This manager's gRPC address, reachable from this process. */
  readonly managerAddr: string;
  readonly material: TlsMaterial;
  readonly nodeId: string;
  readonly store: MemoryStore;
  readonly isLeader: () => boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  /** For tests: other ways in than gRPC to `managerAddr`, and other page files. */
  readonly control?: ControlCaller;
  readonly logs?: LogsCaller;
  readonly events?: Pick<LoopbackEvents, "watch">;
  readonly containers?: ContainerCalls;
  readonly assets?: ReadonlyMap<string, DashboardAsset>;
}

export class DashboardServer {
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly feed: DashboardFeed;
  private readonly control: ControlCaller;
  private readonly loopback: { close(): void }[] = [];
  private readonly sessions = new WeakMap<IncomingMessage, string>();
  /** Open streams and the session token each was opened with. */
  private readonly streams = new Map<ServerResponse, string>();
  private readonly assets: ReadonlyMap<string, DashboardAsset>;
  private heartbeat: Timer | undefined;
  private stopping: Promise<void> | undefined;
  /** The address served, once started. */
  address = "";
  /** https://HOST:PORT, once started. */
  url = "";

  constructor(private readonly options: DashboardServerOptions) {
    this.logger = componentLogger(options.logger, "dashboard");
    const { managerAddr, material, store, clock } = options;
    const loop = <T extends { close(): void }>(c: T): T => (this.loopback.push(c), c);
    this.control = options.control ?? loop(new LoopbackControl(managerAddr, material));
    this.feed = new DashboardFeed(store, this.logger);
    this.assets = options.assets ?? dashboardAssets();
    const api = dashboardApi({
      feed: this.feed,
      identity: () => ({
        clusterId: store.view((tx) => tx.clusters.find()[0]?.id ?? ""),
        managerNodeId: options.nodeId,
        isLeader: options.isLeader(),
      }),
      control: this.control,
      logs: options.logs ?? loop(new LoopbackLogs(managerAddr, material)),
      events: options.events ?? loop(new LoopbackEvents(managerAddr, material)),
      containers: options.containers ?? loop(new LoopbackContainerCalls(managerAddr, material)),
      sessionOf: (raw) => this.sessions.get(raw),
      now: () => clock.now(),
      logger: this.logger,
    });
    const context = (): { cert: string; key: string } => ({
      cert: material.files.certChainPem,
      key: material.files.keyPem,
    });
    this.server = createServer(context(), (req, res) => {
      this.handle(req, res, (r, s) => api.handle(r, s)).catch((err: unknown) => {
        this.logger.warn({ err: errorMessage(err) }, "dashboard request failed");
        if (!res.headersSent) sendRefusal(res, 500, "internal error", true);
        else res.destroy();
      });
    });
    this.server.on("clientError", (_err, socket) => socket.destroy());
    // A renewed certificate applies to new connections.
    this.onRenewed = () => this.server.setSecureContext(context());
    material.addIdentityCertificateListener(this.onRenewed);
  }

  private readonly onRenewed: () => void;

  private sessionToken(req: IncomingMessage): string {
    return parseCookies(req.headers.cookie).get(SESSION_COOKIE) ?? "";
  }

  private session(token: string): { id: string } | undefined {
    const cluster = this.options.store.view((tx) => tx.clusters.find()[0]);
    return findSession(cluster, token, this.options.clock.now());
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    api: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    const isApi = path.startsWith("/api/");
    setSecurityHeaders(res, isApi || path === "/login");
    const method = req.method ?? "GET";
    if (path === "/login" && method === "GET") return this.login(req, res);
    if (path === "/login" && method === "HEAD") {
      // A link preview's HEAD must not use up the one-time link.
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end();
      return;
    }
    const token = this.sessionToken(req);
    const session = this.session(token);
    if (!session) {
      // The refused request's body is read and dropped, so that the connection stays usable.
      req.resume();
      const message = token === "" ? "no dashboard session" : "the dashboard session has expired or was revoked";
      return sendRefusal(res, 401, `${message}: run shoal dashboard login`, isApi);
    }
    const refused = csrfRefusal(method, req.headers, parseCookies(req.headers.cookie));
    if (refused) {
      req.resume();
      return sendRefusal(res, 403, refused, isApi);
    }
    this.sessions.set(req, session.id);
    if (isApi) {
      if ((req.headers.accept ?? "").includes("text/event-stream") || /\/(watch|events|logs|stats)$/.test(path)) {
        this.streams.set(res, token);
        res.once("close", () => this.streams.delete(res));
      }
      return api(req, res);
    }
    this.page(method, path, res);
  }

  private page(method: string, path: string, res: ServerResponse): void {
    const asset =
      method === "GET" || method === "HEAD" ? this.assets.get(path === "/index.html" ? "/" : path) : undefined;
    if (!asset) return sendRefusal(res, method === "GET" ? 404 : 405, `no page ${path}`, false);
    res.writeHead(200, { "Content-Type": asset.type, "Content-Length": asset.body.length });
    res.end(method === "HEAD" ? undefined : asset.body);
  }

  /** GET /login?token=: redeems the link (through the leader), sets the cookies, goes to the page. */
  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = new URL(req.url ?? "/", "https://dashboard").searchParams.get("token") ?? "";
    if (token === "") return sendRefusal(res, 401, "the login link has no token", false);
    let redeemed;
    try {
      redeemed = await this.control.call("redeemDashboardLogin", { token });
    } catch (err: unknown) {
      const used =
        isShoalError(err) &&
        [ErrorCode.PermissionDenied, ErrorCode.Unauthenticated, ErrorCode.InvalidArgument].includes(err.code as never);
      if (!used) this.logger.warn({ err: errorMessage(err) }, "dashboard login failed");
      return sendRefusal(res, used ? 401 : 503, used ? LINK_USED : `the login failed: ${errorMessage(err)}`, false);
    }
    // The leader wrote the session; this manager's replica may be a moment behind.
    const { clock } = this.options;
    for (let waited = 0; !this.session(redeemed.sessionToken) && waited < REPLICA_WAIT_MS; waited += 25) {
      await clock.sleep(25);
    }
    const maxAge = ((redeemed.expiresAt?.getTime() ?? 0) - clock.now()) / 1000;
    this.logger.info({ session: redeemed.id, createdBy: redeemed.createdBy }, "dashboard login");
    res.writeHead(303, { Location: "/", "Set-Cookie": sessionCookies(redeemed.sessionToken, newToken(), maxAge) });
    res.end();
  }

  /** Keeps streams alive, and ends those whose session is gone. */
  private beat(): void {
    for (const [res, token] of [...this.streams]) {
      // A stream whose handler is still resolving its object has no headers out yet.
      if (!this.session(token)) {
        this.streams.delete(res);
        if (res.headersSent) res.end("event: logout\ndata: {}\n\n");
        else res.destroy();
      } else if (res.headersSent) {
        res.write(": heartbeat\n\n");
      }
    }
  }

  async start(): Promise<void> {
    const { listen } = this.options;
    const at = listen.lastIndexOf(":");
    const host = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
    const port = Number(listen.slice(at + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (err) =>
        reject(new ShoalError(ErrorCode.Unavailable, `cannot serve the dashboard on ${listen}: ${err.message}`)),
      );
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address();
    const boundPort = typeof bound === "object" && bound ? bound.port : port;
    this.address = `${listen.slice(0, at)}:${boundPort}`;
    const wildcard = host === "0.0.0.0" || host === "::" || host === "";
    const urlHost = wildcard ? this.options.advertiseHost : listen.slice(0, at);
    this.url = `https://${urlHost}:${boundPort}`;
    this.feed.start();
    this.heartbeat = every(this.options.clock, HEARTBEAT_MS, () => this.beat());
    this.logger.info({ address: this.address, url: this.url }, "serving the dashboard");
  }

  /** Stops listening and ends open connections (streams included). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.heartbeat?.cancel();
      await this.feed.stop();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      this.options.material.removeIdentityCertificateListener(this.onRenewed);
      for (const c of this.loopback) c.close();
    })();
    return this.stopping;
  }
}
