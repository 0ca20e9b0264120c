import dgram from "node:dgram";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import { AssignmentAction, type NetworkState, silentLogger } from "@shoal/shared";
import { NetworkStates } from "../../../src/network/network-states.js";
import { type ServiceDnsOptions, ServiceDns } from "../../../src/network/dns/service-dns.js";
import { Rcode } from "../../../src/network/dns/dns-response.js";
import { FrameReader, frame } from "../../../src/network/dns/tcp-frames.js";
import { addresses, encodeQuery, query, rcodeOf, sendUdp, type Target } from "./dns-client.js";
import { type EndpointFixture, networkState } from "./fixtures.js";

// Gateways and task addresses are loopback addresses, so real sockets carry every query.
const FRONT_GW = "127.0.0.2";
const BACK_GW = "127.0.0.3";
const WEB_1 = "127.0.0.11"; // t-web-1, on front
const API_1_FRONT = "127.0.0.12"; // t-api-1, on front and back
const API_1_BACK = "127.0.0.13";
const DB_1 = "127.0.0.14"; // t-db-1, on back

const frontEndpoints: EndpointFixture[] = [
  { task: "t-web-1", service: "svc-web", address: WEB_1 },
  { task: "t-web-2", service: "svc-web", address: "10.0.1.4", ready: false },
  { task: "t-api-1", service: "svc-api", address: API_1_FRONT },
  { task: "t-api-2", service: "svc-api", address: "10.0.1.6", ready: false },
  { task: "t-api-3", service: "svc-api", address: "10.0.1.7", node: "node-2" },
];
const front = (endpoints = frontEndpoints): NetworkState =>
  networkState(
    "net-front",
    FRONT_GW,
    [
      { id: "svc-web", name: "web", aliases: ["www"], vip: "10.0.1.2" },
      { id: "svc-api", name: "api", dnsrr: true },
    ],
    endpoints,
  );
const back = networkState(
  "net-back",
  BACK_GW,
  [
    { id: "svc-api", name: "api", dnsrr: true },
    { id: "svc-db", name: "db", vip: "10.0.2.2" },
  ],
  [
    { task: "t-api-1", service: "svc-api", address: API_1_BACK },
    { task: "t-db-1", service: "svc-db", address: DB_1 },
  ],
);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function resolvConf(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-dns-"));
  const path = join(dir, "resolv.conf");
  writeFileSync(path, text);
  return path;
}

function startDns(states: NetworkStates, options: Partial<ServiceDnsOptions> = {}): ServiceDns {
  const dns = new ServiceDns({
    states,
    nodeId: "node-1",
    logger: silentLogger(),
    port: 0,
    resolvConfPath: resolvConf("# no nameserver\n"),
    upstreamTimeoutMs: 300,
    bindRetryMs: 50,
    ...options,
  });
  dns.start();
  cleanups.push(() => dns.stop());
  return dns;
}

async function until<T>(probe: () => T | undefined, what: string, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function served(dns: ServiceDns, id: string): Promise<Target> {
  return until(() => dns.boundAddress(id), `the DNS server of ${id}`);
}

async function twoNetworks(
  options: Partial<ServiceDnsOptions> = {},
): Promise<{ dns: ServiceDns; states: NetworkStates; front: Target; back: Target }> {
  const states = new NetworkStates();
  states.replaceAll([front(), back]);
  const dns = startDns(states, options);
  return { dns, states, front: await served(dns, "net-front"), back: await served(dns, "net-back") };
}

/** A resolver for the forwarding tests: answers every query (UDP and TCP) with 203.0.113.7. */
async function fakeUpstream(): Promise<{ port: number; udpQueries: Buffer[]; tcpQueries: Buffer[] }> {
  const udp = dgram.createSocket("udp4");
  const udpQueries: Buffer[] = [];
  const tcpQueries: Buffer[] = [];
  const reply = (q: Buffer): Buffer => {
    const decoded = dnsPacket.decode(q);
    return dnsPacket.encode({
      type: "response",
      id: decoded.id ?? 0,
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: decoded.questions ?? [],
      answers: [{ type: "A", class: "IN", name: decoded.questions?.[0]?.name ?? "", ttl: 300, data: "203.0.113.7" }],
    });
  };
  udp.on("message", (q, rinfo) => {
    udpQueries.push(q);
    udp.send(reply(q), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind({ address: "127.0.0.1", port: 0 }, () => r()));
  const port = udp.address().port;
  const tcp = net.createServer((conn) => {
    const reader = new FrameReader();
    conn.on("data", (chunk) => {
      for (const q of reader.push(chunk)) {
        tcpQueries.push(q);
        conn.write(frame(reply(q)));
      }
    });
  });
  await new Promise<void>((r) => tcp.listen({ host: "127.0.0.1", port }, () => r()));
  cleanups.push(
    () => new Promise<void>((r) => udp.close(() => r())),
    () => new Promise<void>((r) => tcp.close(() => r())),
  );
  return { port, udpQueries, tcpQueries };
}

describe("ServiceDns answers", () => {
  it("gives a VIP service's virtual IP, with TTL 0, authoritative", async () => {
    const { front: gw } = await twoNetworks();
    const reply = await query(gw, "web", { source: WEB_1 });
    expect(rcodeOf(reply)).toBe(Rcode.NOERROR);
    expect(reply.id).toBe(4242);
    expect(reply.flag_aa).toBe(true);
    expect(addresses(reply)).toEqual(["10.0.1.2"]);
    expect(reply.answers?.[0]).toMatchObject({ ttl: 0, class: "IN", name: "web" });
  });

  it("answers an alias, in any case, with a trailing dot", async () => {
    const { front: gw } = await twoNetworks();
    expect(addresses(await query(gw, "WWW.", { source: WEB_1 }))).toEqual(["10.0.1.2"]);
  });

  it("gives a dnsrr service's ready endpoints only, here and on other nodes", async () => {
    const { front: gw } = await twoNetworks();
    expect(addresses(await query(gw, "api", { source: WEB_1 }))).toEqual(["10.0.1.7", API_1_FRONT]);
  });

  it("gives tasks.NAME's ready endpoints", async () => {
    const { front: gw } = await twoNetworks();
    expect(addresses(await query(gw, "tasks.web", { source: WEB_1 }))).toEqual([WEB_1]);
  });

  it("gives an empty NOERROR for AAAA and other types of a known name", async () => {
    const { front: gw } = await twoNetworks();
    for (const type of ["AAAA", "MX"] as const) {
      const reply = await query(gw, "web", { source: WEB_1, type });
      expect(rcodeOf(reply)).toBe(Rcode.NOERROR);
      expect(reply.answers).toEqual([]);
    }
  });

  it("answers a task only with the services of the networks it joins", async () => {
    const upstream = await fakeUpstream();
    const { front: gw, back: backGw } = await twoNetworks({
      resolvConfPath: resolvConf("nameserver 127.0.0.1\n"),
      upstreamPort: upstream.port,
    });
    // t-web-1 is on front only: db (on back) is not its to know, and goes to the host's resolvers.
    expect(addresses(await query(gw, "db", { source: WEB_1 }))).toEqual(["203.0.113.7"]);
    // t-api-1 joins both networks: it sees db, and api with its addresses on the network asked.
    expect(addresses(await query(gw, "db", { source: API_1_FRONT }))).toEqual(["10.0.2.2"]);
    expect(addresses(await query(backGw, "api", { source: API_1_BACK }))).toEqual([API_1_BACK]);
    // t-db-1 is on back only: web is unknown to it.
    expect(addresses(await query(backGw, "web", { source: DB_1 }))).toEqual(["203.0.113.7"]);
    // An unknown source sees the services of the network whose gateway it asked.
    expect(addresses(await query(backGw, "db", { source: "127.0.0.99" }))).toEqual(["10.0.2.2"]);
    expect(upstream.udpQueries).toHaveLength(2);
  });

  it("reflects a change of the NetworkStates in the next answer", async () => {
    const { states, front: gw } = await twoNetworks();
    expect(addresses(await query(gw, "tasks.api", { source: WEB_1 }))).toEqual(["10.0.1.7", API_1_FRONT]);
    const notReady = frontEndpoints.map((e) => (e.task === "t-api-3" ? { ...e, ready: false } : e));
    states.apply(AssignmentAction.UPDATE, front(notReady));
    expect(addresses(await query(gw, "tasks.api", { source: WEB_1 }))).toEqual([API_1_FRONT]);
    expect(addresses(await query(gw, "api", { source: WEB_1 }))).toEqual([API_1_FRONT]);
  });

  it("gives an empty NOERROR for a dnsrr service with no ready endpoint", async () => {
    const { states, front: gw } = await twoNetworks();
    states.apply(AssignmentAction.UPDATE, front(frontEndpoints.map((e) => ({ ...e, ready: false }))));
    const reply = await query(gw, "api", { source: WEB_1 });
    expect(rcodeOf(reply)).toBe(Rcode.NOERROR);
    expect(reply.answers).toEqual([]);
  });

  it("answers over TCP", async () => {
    const { front: gw } = await twoNetworks();
    const reply = await query(gw, "tasks.api", { source: WEB_1, tcp: true });
    expect(addresses(reply)).toEqual(["10.0.1.7", API_1_FRONT]);
  });

  it("truncates a long UDP answer and gives it whole over TCP", async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({
      task: `t-${i}`,
      service: "svc-api",
      address: `10.0.9.${i + 1}`,
    }));
    const { states, front: gw } = await twoNetworks();
    states.apply(AssignmentAction.UPDATE, front([...frontEndpoints, ...many]));
    const udp = await query(gw, "api", { source: WEB_1 });
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers?.length).toBeGreaterThan(10);
    expect(udp.answers?.length).toBeLessThan(62);
    const tcp = await query(gw, "api", { source: WEB_1, tcp: true });
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(62);
  });
});

describe("ServiceDns forwarding", () => {
  it("relays the host resolver's answer as it came, over UDP and TCP", async () => {
    const upstream = await fakeUpstream();
    const { front: gw } = await twoNetworks({
      resolvConfPath: resolvConf("search example\nnameserver 127.0.0.1\n"),
      upstreamPort: upstream.port,
    });
    const message = encodeQuery("example.com", { id: 777 });
    const raw = await sendUdp(gw, message, WEB_1);
    expect(upstream.udpQueries).toEqual([message]);
    const reply = dnsPacket.decode(raw);
    expect(reply.id).toBe(777);
    expect(reply.flag_aa).toBe(false);
    expect(reply.answers?.[0]).toMatchObject({ type: "A", name: "example.com", ttl: 300, data: "203.0.113.7" });

    const overTcp = await query(gw, "example.org", { source: WEB_1, tcp: true });
    expect(addresses(overTcp)).toEqual(["203.0.113.7"]);
    expect(upstream.tcpQueries).toHaveLength(1);
  });

  it("answers SERVFAIL without a resolver", async () => {
    const { front: gw } = await twoNetworks({ resolvConfPath: "/nonexistent/resolv.conf" });
    const reply = await query(gw, "example.com", { source: WEB_1 });
    expect(rcodeOf(reply)).toBe(Rcode.SERVFAIL);
    expect(reply.questions?.[0]?.name).toBe("example.com");
  });

  it("answers SERVFAIL when the resolver does not answer in time", async () => {
    const silent = dgram.createSocket("udp4");
    await new Promise<void>((r) => silent.bind({ address: "127.0.0.1", port: 0 }, () => r()));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const { front: gw } = await twoNetworks({
      resolvConfPath: resolvConf("nameserver 127.0.0.1\n"),
      upstreamPort: silent.address().port,
    });
    const started = Date.now();
    const reply = await query(gw, "example.com", { source: WEB_1 });
    expect(rcodeOf(reply)).toBe(Rcode.SERVFAIL);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe("ServiceDns sockets", () => {
  it("drops a malformed packet and keeps answering", async () => {
    const { front: gw } = await twoNetworks();
    await expect(sendUdp(gw, Buffer.from([1, 2, 3]), WEB_1, 300)).rejects.toThrow(/no UDP reply/);
    const truncated = encodeQuery("web").subarray(0, 15);
    await expect(sendUdp(gw, truncated, WEB_1, 300)).rejects.toThrow(/no UDP reply/);
    expect(addresses(await query(gw, "web", { source: WEB_1 }))).toEqual(["10.0.1.2"]);
    expect(addresses(await query(gw, "web", { source: WEB_1, tcp: true }))).toEqual(["10.0.1.2"]);
  });

  it("refuses what it does not do, and ignores responses", async () => {
    const states = new NetworkStates();
    states.replaceAll([back]);
    const dns = new ServiceDns({ states, nodeId: "node-1", logger: silentLogger() });
    const two = dnsPacket.encode({
      type: "query",
      id: 1,
      questions: [
        { type: "A", name: "db" },
        { type: "A", name: "api" },
      ],
    });
    const status = dnsPacket.encode({ type: "query", id: 2, flags: 2 << 11, questions: [{ type: "A", name: "db" }] });
    const response = dnsPacket.encode({ type: "response", id: 3, questions: [{ type: "A", name: "db" }] });
    const rcode = async (m: Buffer): Promise<number | undefined> => {
      const reply = await dns.answer(m, DB_1, "net-back", "udp");
      return reply === undefined ? undefined : rcodeOf(dnsPacket.decode(reply));
    };
    expect(await rcode(two)).toBe(Rcode.FORMERR);
    expect(await rcode(status)).toBe(Rcode.NOTIMP);
    expect(await rcode(response)).toBeUndefined();
  });

  it("binds once the gateway address appears, trying again on a timer", async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface: the bind fails with EADDRNOTAVAIL, as it does
    // for a gateway before the data plane has made the bridge.
    let hostHasGateway = false;
    const states = new NetworkStates();
    states.replaceAll([back]);
    const dns = startDns(states, { listenAddress: () => (hostHasGateway ? BACK_GW : "192.0.2.1") });
    await new Promise((r) => setTimeout(r, 200));
    expect(dns.boundAddress("net-back")).toBeUndefined();
    hostHasGateway = true;
    const gw = await served(dns, "net-back");
    expect(gw.address).toBe(BACK_GW);
    expect(addresses(await query(gw, "db", { source: DB_1 }))).toEqual(["10.0.2.2"]);
  });

  it("survives a port in use and binds once it is free", async () => {
    const blocker = dgram.createSocket("udp4");
    await new Promise<void>((r) => blocker.bind({ address: BACK_GW, port: 0 }, () => r()));
    const port = blocker.address().port;
    const states = new NetworkStates();
    states.replaceAll([back]);
    const dns = startDns(states, { port });
    await new Promise((r) => setTimeout(r, 200));
    expect(dns.boundAddress("net-back")).toBeUndefined();
    await new Promise<void>((r) => blocker.close(() => r()));
    const gw = await served(dns, "net-back");
    expect(gw).toEqual({ address: BACK_GW, port });
    expect(addresses(await query(gw, "db", { source: DB_1 }))).toEqual(["10.0.2.2"]);
  });

  it("closes the server of a network that went, and every socket at stop()", async () => {
    const { dns, states, front: gw, back: backGw } = await twoNetworks();
    states.apply(AssignmentAction.REMOVE, back);
    await until(() => (dns.boundAddress("net-back") === undefined ? true : undefined), "net-back closed");
    await expectFree(backGw);
    expect(addresses(await query(gw, "web", { source: WEB_1 }))).toEqual(["10.0.1.2"]);
    await dns.stop();
    await dns.stop();
    await expectFree(gw);
  });
});

/** Both the UDP and the TCP port of `target` can be bound again: nothing holds them. */
async function expectFree(target: Target): Promise<void> {
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    udp.once("error", reject);
    udp.bind({ address: target.address, port: target.port, exclusive: true }, () => resolve());
  });
  await new Promise<void>((r) => udp.close(() => r()));
  const tcp = net.createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen({ host: target.address, port: target.port }, () => resolve());
  });
  await new Promise<void>((r) => tcp.close(() => r()));
}
