// Forwarding the names the cluster does not know to the host's resolvers (the nameservers of
// /etc/resolv.conf, read at each query so a changed file counts at once). The query goes as it
// came (UDP over UDP, TCP over TCP) and the first reply is relayed byte for byte. The resolvers are
// tried in order within one deadline (2 s by default: Docker's embedded resolver, which asks us,
// gives up after 4 s); none, or no reply in time: undefined, and the caller answers SERVFAIL.
import dgram from "node:dgram";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { type Clock, errorMessage, type Logger } from "@shoal/shared";
import { FrameReader, frame } from "./tcp-frames.js";
import type { Transport } from "./dns-response.js";

export const DEFAULT_RESOLV_CONF = "/etc/resolv.conf";
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
/** Forwarded queries waiting for a reply at most; past it a query gets SERVFAIL at once. */
export const MAX_IN_FLIGHT = 256;

export interface UpstreamOptions {
  resolvConfPath: string;
  /** The resolvers' port (53; tests use a high one). */
  port: number;
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
}

export class Upstream {
  private inFlight = 0;
  /** Queries refused because MAX_IN_FLIGHT were waiting. */
  refused = 0;

  constructor(private readonly options: UpstreamOptions) {}

  /**
   * The first resolver's reply to `query`, or undefined (no resolver, none replied in time, or
   * too many queries waiting already).
   */
  async forward(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      if (this.refused++ % 100 === 0) this.options.logger.warn({ refused: this.refused }, "too many forwarded queries");
      return undefined;
    }
    this.inFlight++;
    try {
      return await this.tryServers(query, transport);
    } finally {
      this.inFlight--;
    }
  }

  private async tryServers(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    const servers = await this.nameservers();
    const deadline = this.options.clock.now() + this.options.timeoutMs;
    for (const [i, server] of servers.entries()) {
      // Each resolver left gets an equal share of the time left.
      const ms = (deadline - this.options.clock.now()) / (servers.length - i);
      if (ms <= 0) break;
      try {
        return transport === "udp" ? await this.viaUdp(query, server, ms) : await this.viaTcp(query, server, ms);
      } catch (err: unknown) {
        this.options.logger.debug({ server, transport, err: errorMessage(err) }, "resolver did not answer");
      }
    }
    return undefined;
  }

  private async nameservers(): Promise<string[]> {
    try {
      return parseNameservers(await readFile(this.options.resolvConfPath, "utf8"));
    } catch (err: unknown) {
      this.options.logger.debug({ path: this.options.resolvConfPath, err: errorMessage(err) }, "no resolv.conf");
      return [];
    }
  }

  private viaUdp(query: Buffer, server: string, ms: number): Promise<Buffer> {
    const socket = dgram.createSocket(net.isIPv6(server) ? "udp6" : "udp4");
    const id = query.readUInt16BE(0);
    return this.withDeadline(
      ms,
      () => socket.close(),
      (resolve, reject) => {
        socket.on("error", reject);
        socket.on("message", (reply, rinfo) => {
          // Only the resolver's reply to this query (same id) counts.
          if (rinfo.address === server && reply.length >= 2 && reply.readUInt16BE(0) === id) resolve(reply);
        });
        socket.send(query, this.options.port, server, (err) => {
          if (err) reject(err);
        });
      },
    );
  }

  private viaTcp(query: Buffer, server: string, ms: number): Promise<Buffer> {
    const socket = net.connect({ host: server, port: this.options.port });
    const reader = new FrameReader();
    return this.withDeadline(
      ms,
      () => socket.destroy(),
      (resolve, reject) => {
        socket.on("error", reject);
        socket.on("connect", () => socket.write(frame(query)));
        socket.on("data", (chunk) => {
          const [reply] = reader.push(chunk);
          if (reply !== undefined) resolve(reply);
        });
        socket.on("close", () => reject(new Error("connection closed before a reply")));
      },
    );
  }

  /** Runs `start` until it settles or `ms` passes; `cleanup` runs once either way. */
  private withDeadline(
    ms: number,
    cleanup: () => void,
    start: (resolve: (b: Buffer) => void, reject: (e: unknown) => void) => void,
  ): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        cleanup();
        fn();
      };
      const timer = this.options.clock.setTimeout(
        () => settle(() => reject(new Error(`no reply in ${Math.round(ms)} ms`))),
        ms,
      );
      start(
        (b) => settle(() => resolve(b)),
        (e) => settle(() => reject(e)),
      );
    });
  }
}

/** The `nameserver` addresses of a resolv.conf, in order (a zone suffix such as `%eth0` kept off). */
export function parseNameservers(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split("\n")) {
    const [keyword, value] = line.trim().split(/\s+/);
    if (keyword !== "nameserver" || value === undefined) continue;
    const address = value.split("%")[0] ?? "";
    if (net.isIP(address) !== 0) servers.push(address);
  }
  return servers;
}
