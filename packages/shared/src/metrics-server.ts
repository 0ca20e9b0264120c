// The /metrics endpoint of a manager or an agent: a plain HTTP server on an address of its own
// (--metrics-addr), serving a metrics registry in the Prometheus text format. Anything else is a
// 404. The registry is prom-client's, seen through the two members used here, so this package
// does not depend on prom-client.
import { createServer, type Server } from "node:http";
import { ErrorCode, ShoalError, errorMessage } from "./errors.js";
import { componentLogger, type Logger } from "./logging.js";

/** What the server needs of a registry (prom-client's Registry has both). */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export class MetricsServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private stopping: Promise<void> | undefined;
  /** HOST:PORT it listens on, once started. */
  address = "";

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly listen: string,
    logger: Logger,
  ) {
    this.logger = componentLogger(logger, "metrics");
    this.server = createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served here\n");
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => {
          this.logger.warn({ err: errorMessage(err) }, "metrics could not be collected");
          res.writeHead(500, { "content-type": "text/plain" }).end(`${errorMessage(err)}\n`);
        },
      );
    });
  }

  async start(): Promise<void> {
    const at = this.listen.lastIndexOf(":");
    const host = this.listen.slice(0, at).replace(/^\[|\]$/g, "");
    const port = Number(this.listen.slice(at + 1));
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (err) =>
        reject(new ShoalError(ErrorCode.Unavailable, `cannot serve metrics on ${this.listen}: ${err.message}`)),
      );
      this.server.listen(port, host, () => resolve());
    });
    const bound = this.server.address();
    const boundPort = typeof bound === "object" && bound !== null ? bound.port : port;
    this.address = `${this.listen.slice(0, at)}:${boundPort}`;
    this.logger.info({ address: this.address }, "serving metrics at /metrics");
  }

  /** Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    return this.stopping;
  }
}
