// The agent's DNS server for service discovery: for each network of the NetworkStates, UDP and TCP
// on the network's gateway address (port 53). The gateway exists only once the data plane has made
// the network's bridge, so a failed bind is tried again at each change of the NetworkStates and
// on a short timer until it works; the servers of networks that went are closed. Answers come
// from the NetworkStates at the time of the query (no cache, TTL 0); names the cluster does not
// know go to the host's resolvers.
import dnsPacket, { type DecodedPacket } from "dns-packet";
import {
  type Clock,
  componentLogger,
  errorMessage,
  type Logger,
  type NetworkState,
  systemClock,
  type Timer,
} from "@shoal/shared";
import { type NetworkStates, networkId } from "../network-states.js";
import { DnsListener } from "./dns-listener.js";
import { addressReply, errorReply, Rcode, type Transport } from "./dns-response.js";
import { askerNetworks, resolveName } from "./service-records.js";
import { DEFAULT_RESOLV_CONF, DEFAULT_UPSTREAM_TIMEOUT_MS, Upstream } from "./upstream.js";

export const DNS_PORT = 53;
export const DEFAULT_BIND_RETRY_MS = 1000;

export interface ServiceDnsOptions {
  states: NetworkStates;
  /** This node's id (read at each query; "" while unknown): a source is looked up among its endpoints first. */
  nodeId: string | (() => string);
  logger: Logger;
  /** Default 53; 0 takes a free port (tests). */
  port?: number;
  /** The address to serve a network on; default its gateway (Network.ipam.configs[0].gateway). */
  listenAddress?: (state: NetworkState) => string | undefined;
  /** Default /etc/resolv.conf. */
  resolvConfPath?: string;
  /** The host resolvers' port; default 53. */
  upstreamPort?: number;
  /** Default 2000 ms. */
  upstreamTimeoutMs?: number;
  /** How soon a failed bind is tried again; default 1000 ms. */
  bindRetryMs?: number;
  clock?: Clock;
  /** Orders dnsrr and tasks.NAME answers; default Math.random. */
  random?: () => number;
}

interface Server {
  readonly listener: DnsListener;
  /** Bound and answering. */
  ready: boolean;
  /** Closed (its network went, or the address changed) while it was binding. */
  dropped: boolean;
}

export class ServiceDns {
  private readonly logger: Logger;
  private readonly upstream: Upstream;
  private readonly clock: Clock;
  private readonly servers = new Map<string, Server>();
  /** The last bind error logged per network, so a retried failure is logged once. */
  private readonly bindErrors = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  private retry: Timer | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: ServiceDnsOptions) {
    this.logger = componentLogger(options.logger, "dns");
    this.clock = options.clock ?? systemClock;
    this.upstream = new Upstream({
      resolvConfPath: options.resolvConfPath ?? DEFAULT_RESOLV_CONF,
      port: options.upstreamPort ?? DNS_PORT,
      timeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      clock: this.clock,
      logger: this.logger,
    });
  }

  /** Serves the networks of the NetworkStates, now and at each change, until stop(). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.unsubscribe = this.options.states.onChange(() => this.reconcile());
    this.reconcile();
  }

  /** Closes every socket; idempotent. */
  private nodeId(): string {
    const id = this.options.nodeId;
    return typeof id === "string" ? id : id();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.retry?.cancel();
    this.retry = undefined;
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map((s) => this.drop(s)));
  }

  /** Where network `id` is answered, once bound (for tests and diagnostics). */
  boundAddress(id: string): { address: string; port: number } | undefined {
    const server = this.servers.get(id);
    const port = server?.listener.boundPort;
    if (server === undefined || !server.ready || port === undefined) return undefined;
    return { address: server.listener.address, port };
  }

  /** The reply to one query from `source` received on network `receivingId`; undefined: drop it. */
  async answer(
    message: Buffer,
    source: string,
    receivingId: string,
    transport: Transport,
  ): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch (err: unknown) {
      this.logger.debug({ source, err: errorMessage(err) }, "malformed DNS packet dropped");
      return undefined;
    }
    if (query.type !== "query") return undefined;
    if ((query.flags ?? 0) & 0x7800) return errorReply(query, Rcode.NOTIMP);
    const question = query.questions?.[0];
    if (question === undefined || query.questions?.length !== 1) return errorReply(query, Rcode.FORMERR);
    const networks = askerNetworks(this.options.states.all(), receivingId, source, this.nodeId());
    const addresses = resolveName(networks, question.name);
    if (addresses === undefined) {
      const reply = await this.upstream.forward(message, transport);
      return reply ?? errorReply(query, Rcode.SERVFAIL);
    }
    const isA = question.type === "A" && (question.class ?? "IN") === "IN";
    return addressReply(query, question, isA ? this.shuffled(addresses) : [], transport);
  }

  private reconcile(): void {
    if (this.stopped) return;
    const wanted = new Map<string, string>();
    for (const state of this.options.states.all()) {
      const address = (this.options.listenAddress ?? gatewayOf)(state);
      if (address !== undefined && address !== "") wanted.set(networkId(state), address);
    }
    for (const [id, server] of this.servers) {
      if (wanted.get(id) === server.listener.address) continue;
      this.servers.delete(id);
      this.bindErrors.delete(id);
      void this.drop(server);
      this.logger.info({ network: id, address: server.listener.address }, "DNS server closed");
    }
    for (const [id, address] of wanted) if (!this.servers.has(id)) this.bind(id, address);
  }

  private bind(id: string, address: string): void {
    const listener = new DnsListener(
      address,
      this.options.port ?? DNS_PORT,
      (message, source, transport) => this.answer(message, source, id, transport),
      this.logger,
    );
    const server: Server = { listener, ready: false, dropped: false };
    this.servers.set(id, server);
    listener.listen().then(
      () => {
        if (server.dropped) {
          void listener.close();
          return;
        }
        server.ready = true;
        this.bindErrors.delete(id);
        this.logger.info({ network: id, address, port: listener.boundPort }, "DNS server listening");
      },
      (err: unknown) => {
        if (this.servers.get(id) === server) this.servers.delete(id);
        if (server.dropped) return;
        this.logBindError(id, address, err);
        this.scheduleRetry();
      },
    );
  }

  private logBindError(id: string, address: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? errorMessage(err);
    if (this.bindErrors.get(id) === code) return;
    this.bindErrors.set(id, code);
    const fields = { network: id, address, err: errorMessage(err) };
    // The bridge (and so the gateway) not made yet is expected; anything else is not.
    if (code === "EADDRNOTAVAIL") this.logger.debug(fields, "DNS server waits for its address");
    else this.logger.warn(fields, "DNS server cannot bind; will try again");
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry !== undefined) return;
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined;
      this.reconcile();
    }, this.options.bindRetryMs ?? DEFAULT_BIND_RETRY_MS);
  }

  private async drop(server: Server): Promise<void> {
    server.dropped = true;
    await server.listener.close();
  }

  private shuffled(addresses: string[]): string[] {
    const random = this.options.random ?? Math.random;
    const out = [...addresses];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j] as string, out[i] as string];
    }
    return out;
  }
}

/** The network's gateway address (Network.ipam.configs[0].gateway). */
export function gatewayOf(state: NetworkState): string | undefined {
  return state.network?.ipam?.configs[0]?.gateway;
}
