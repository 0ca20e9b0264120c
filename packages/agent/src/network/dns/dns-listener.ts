// One network's DNS sockets: UDP and TCP on one address and port. Each message goes to the
// handler with its source address; its reply (if any) goes back the way the query came. A bind
// that fails (the address is not on the host yet, the port is taken) fails listen() with the
// socket's error and leaves nothing open. Port 0 (tests) takes a free UDP port and the same TCP one.
import dgram from "node:dgram";
import net from "node:net";
import { errorMessage, type Logger } from "@shoal/shared";
import type { Transport } from "./dns-response.js";
import { FrameReader, frame } from "./tcp-frames.js";

export type QueryHandler = (message: Buffer, source: string, transport: Transport) => Promise<Buffer | undefined>;

/** A TCP client silent this long is disconnected. */
const TCP_IDLE_MS = 10_000;
/** At most this many TCP clients at once (Docker's embedded resolver opens one per query). */
const TCP_MAX_CONNECTIONS = 256;
/** A TCP client with more queries than this waiting for replies is disconnected. */
const TCP_MAX_PENDING = 64;

export class DnsListener {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();

  constructor(
    readonly address: string,
    private readonly port: number,
    private readonly handler: QueryHandler,
    private readonly logger: Logger,
  ) {}

  /** The port bound (after listen()). */
  get boundPort(): number | undefined {
    return this.udp?.address().port;
  }

  /** Binds UDP then TCP; on failure closes what was bound and rejects with the socket's error. */
  async listen(): Promise<void> {
    try {
      this.udp = await this.bindUdp();
      this.tcp = await this.bindTcp(this.udp.address().port);
    } catch (err: unknown) {
      await this.close();
      throw err;
    }
  }

  /** Closes both sockets and every TCP connection; idempotent. */
  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp !== undefined) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  private bindUdp(): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: net.isIPv6(this.address) ? "udp6" : "udp4" });
    return new Promise((resolve, reject) => {
      socket.once("error", (err) => {
        try {
          socket.close();
        } catch {
          // Not open: nothing to close.
        }
        reject(err);
      });
      socket.bind({ address: this.address, port: this.port, exclusive: true }, () => {
        socket.removeAllListeners("error");
        socket.on("error", (err) => this.logger.warn({ err: errorMessage(err) }, "DNS UDP socket error"));
        socket.on("message", (message, rinfo) => this.onUdp(socket, message, rinfo));
        resolve(socket);
      });
    });
  }

  private bindTcp(port: number): Promise<net.Server> {
    const server = net.createServer((conn) => this.onTcp(conn));
    server.maxConnections = TCP_MAX_CONNECTIONS;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.address, port, exclusive: true }, () => {
        server.removeAllListeners("error");
        server.on("error", (err) => this.logger.warn({ err: errorMessage(err) }, "DNS TCP server error"));
        resolve(server);
      });
    });
  }

  private onUdp(socket: dgram.Socket, message: Buffer, rinfo: dgram.RemoteInfo): void {
    this.handler(message, rinfo.address, "udp").then(
      (reply) => {
        if (reply !== undefined && this.udp === socket) socket.send(reply, rinfo.port, rinfo.address);
      },
      (err: unknown) => this.logger.warn({ err: errorMessage(err) }, "DNS query failed"),
    );
  }

  private onTcp(conn: net.Socket): void {
    this.connections.add(conn);
    const source = conn.remoteAddress ?? "";
    const reader = new FrameReader();
    // Replies go out in the order of the queries.
    let queue = Promise.resolve();
    let pending = 0;
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on("error", (err) => this.logger.debug({ source, err: errorMessage(err) }, "DNS TCP connection error"));
    conn.on("close", () => this.connections.delete(conn));
    conn.on("data", (chunk) => {
      for (const message of reader.push(chunk)) {
        if (++pending > TCP_MAX_PENDING) {
          this.logger.debug({ source }, "DNS TCP client sends too many queries; disconnected");
          conn.destroy();
          return;
        }
        queue = queue.then(async () => {
          try {
            const reply = await this.handler(message, source, "tcp");
            if (reply !== undefined && !conn.destroyed) conn.write(frame(reply));
          } catch (err: unknown) {
            this.logger.warn({ err: errorMessage(err) }, "DNS query failed");
          } finally {
            pending--;
          }
        });
      }
    });
  }
}
