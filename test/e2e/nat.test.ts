// The NAT rules on a real kernel, without Docker: network namespaces stand in for a host and its
// containers, and busybox nc for the tasks. In the "host" namespace (with Docker's rules for its
// bridges: FORWARD policy DROP, what comes out of a bridge accepted, and masqueraded):
//
//   shb4242 (network A, 10.77.0.1/24, virtual IPs .100 and .101 as /32): client C .2, local
//            endpoint L .4 (both veths on the bridge)
//   shv4242  a veth to R .3, which stands for an endpoint on another host (routed, /32, as the
//            VXLAN device is)
//   shb4096 (ingress, 10.78.0.1/24 and the node's address .2): ingress endpoint I .5
//   shv4096  a veth to J .6, an ingress endpoint on another host (I and J have no default route:
//            only the mesh's SNAT to the node's address brings their replies back)
//   up0      192.168.77.1/24, to O .2, a client outside the cluster
//
// The NatController writes the rules for a hand-built NetworkState; each client connects with nc
// and reads which endpoint answered.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  AssignmentAction,
  EndpointMode,
  PortProtocol,
  PublishMode,
  silentLogger,
  type NetworkEndpoint,
  type NetworkService,
  type NetworkState,
} from "@shoal/shared";
import { NatController, NetworkStates, spawnRunner } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TAG = randomBytes(2).toString("hex");
const ns = (name: string): string => `nat-${TAG}-${name}`;
const NAMESPACES = ["h", "c", "l", "r", "i", "j", "o"].map(ns);
const [HOST, C, L, R, I, J, O] = NAMESPACES as [string, string, string, string, string, string, string];
const NODE = "node-self";
const PORT = 8080;

interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(argv: readonly string[], timeoutMs = 15_000): Promise<Output> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    const child = spawn(file!, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(...argv: string[]): Promise<void> {
  const out = await exec(argv);
  if (out.code !== 0) throw new Error(`${argv.join(" ")}: ${out.stderr}`);
}

const ip = (netns: string, ...args: string[]): Promise<void> => must("ip", "-n", netns, ...args);
const inNs = (netns: string, ...argv: string[]): string[] => ["nsenter", `--net=/run/netns/${netns}`, ...argv];

/** Connects from `netns` to address:port; what the server sent, or the error. */
async function connect(netns: string, address: string, port: number): Promise<Output> {
  return exec(inNs(netns, "busybox", "nc", "-w", "2", address, String(port)));
}

/** The replies of `count` connections. */
async function replies(netns: string, address: string, port: number, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const out = await connect(netns, address, port);
    seen.add(out.code === 0 ? out.stdout.trim() : `error: ${out.stderr.trim()}`);
  }
  return seen;
}

/** Joins `netns` to `bridge` in the host namespace with `cidr` on its eth0. */
async function joinBridge(netns: string, bridge: string, cidr: string): Promise<void> {
  const port = `v-${netns.slice(-1)}`;
  await ip(HOST, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns);
  await ip(HOST, "link", "set", port, "master", bridge, "up");
  await ip(netns, "addr", "add", cidr, "dev", "eth0");
  await ip(netns, "link", "set", "eth0", "up");
}

/** Joins `netns` to the host by a veth `device` (its VXLAN device's name) and a /32 route. */
async function remote(netns: string, device: string, cidr: string): Promise<void> {
  await ip(HOST, "link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", netns);
  await ip(HOST, "link", "set", device, "up");
  await ip(HOST, "route", "add", `${cidr.split("/")[0]}/32`, "dev", device);
  await ip(netns, "addr", "add", cidr, "dev", "eth0");
  await ip(netns, "link", "set", "eth0", "up");
}

const servers: ChildProcess[] = [];

/** Serves `reply` on every TCP connection to port 8080 in `netns`. */
function serve(netns: string, reply: string): void {
  const [file, ...args] = inNs(netns, "busybox", "nc", "-ll", "-p", String(PORT), "-e", "echo", reply);
  servers.push(spawn(file!, args, { stdio: "ignore" }));
}

function networkState(id: string, vni: number, ingress: boolean, nodeAddress: string): NetworkState {
  const spec = { annotations: { name: id, labels: {} }, driverConfig: undefined, attachable: false, ingress };
  return {
    network: { id, meta: undefined, spec: { ...spec, ipam: undefined }, ipam: undefined, vni },
    nodeAddress,
    peers: [],
    endpoints: [],
    services: [],
  };
}

function service(serviceId: string, virtualIp: string, publishedPort = 0): NetworkService {
  const ports =
    publishedPort === 0
      ? []
      : [{ name: "", protocol: PortProtocol.TCP, targetPort: PORT, publishedPort, publishMode: PublishMode.INGRESS }];
  return { serviceId, name: serviceId, aliases: [], mode: EndpointMode.VIP, virtualIp, ports };
}

function endpoint(serviceId: string, address: string, nodeId: string, ready = true): NetworkEndpoint {
  return { taskId: `${serviceId}.${address}`, serviceId, nodeId, address, ready };
}

function networkA(readyR: boolean): NetworkState {
  return {
    ...networkState("net-a", 4242, false, ""),
    services: [service("svc-web", "10.77.0.100"), service("svc-none", "10.77.0.101")],
    endpoints: [
      endpoint("svc-web", "10.77.0.4", NODE),
      endpoint("svc-web", "10.77.0.3", "node-other", readyR),
      // Listening, but not ready: never behind the virtual IP.
      endpoint("svc-none", "10.77.0.4", NODE, false),
    ],
  };
}

const ingress: NetworkState = {
  ...networkState("net-ingress", 4096, true, "10.78.0.2/24"),
  services: [service("svc-web", "", 30080)],
  endpoints: [endpoint("svc-web", "10.78.0.5", NODE), endpoint("svc-web", "10.78.0.6", "node-other")],
};

const states = new NetworkStates();
const controller = new NatController({
  states,
  nodeId: () => NODE,
  logger: silentLogger(),
  run: spawnRunner(inNs(HOST)),
  backoff: { initialMs: 100, maxMs: 200 },
});

beforeAll(async () => {
  for (const n of NAMESPACES) {
    await must("ip", "netns", "add", n);
    await ip(n, "link", "set", "lo", "up");
  }
  const sysctl = (key: string): Promise<void> => must(...inNs(HOST, "sysctl", "-qw", `${key}=1`));
  await ip(HOST, "link", "add", "shb4242", "type", "bridge");
  await ip(HOST, "link", "add", "shb4096", "type", "bridge");
  for (const cidr of ["10.77.0.1/24", "10.77.0.100/32", "10.77.0.101/32"])
    await ip(HOST, "addr", "add", cidr, "dev", "shb4242");
  for (const cidr of ["10.78.0.1/24", "10.78.0.2/24"]) await ip(HOST, "addr", "add", cidr, "dev", "shb4096");
  for (const dev of ["shb4242", "shb4096"]) await ip(HOST, "link", "set", dev, "up");
  await joinBridge(C, "shb4242", "10.77.0.2/24");
  await joinBridge(L, "shb4242", "10.77.0.4/24");
  await joinBridge(I, "shb4096", "10.78.0.5/24");
  for (const n of [C, L]) await ip(n, "route", "add", "default", "via", "10.77.0.1");
  // I may reach network A (to show that isolation stops it), but has no way to the outside.
  await ip(I, "route", "add", "10.77.0.0/24", "via", "10.78.0.1");
  // R and J: tasks on "another host", reached through shv<vni> with a /32 route, as over VXLAN.
  await remote(R, "shv4242", "10.77.0.3/24");
  await ip(R, "route", "add", "default", "via", "10.77.0.1");
  await remote(J, "shv4096", "10.78.0.6/24");
  // O: outside the cluster.
  await ip(HOST, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", O);
  await ip(HOST, "addr", "add", "192.168.77.1/24", "dev", "up0");
  await ip(HOST, "link", "set", "up0", "up");
  await ip(O, "addr", "add", "192.168.77.2/24", "dev", "eth0");
  await ip(O, "link", "set", "eth0", "up");
  await sysctl("net.ipv4.ip_forward");
  for (const dev of ["shb4242", "shv4242", "shv4096"]) await sysctl(`net.ipv4.conf.${dev}.proxy_arp`);
  // Docker's FORWARD rules for its bridges: policy DROP; replies in, and anything out, accepted.
  const forward = (...rule: string[]): Promise<void> => must(...inNs(HOST, "iptables", "-w", ...rule));
  await forward("-P", "FORWARD", "DROP");
  await forward("-A", "FORWARD", "-o", "shb+", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT");
  await forward("-A", "FORWARD", "-i", "shb+", "-j", "ACCEPT");
  // And its masquerade of what leaves the bridge network (by a VXLAN device, too), on top.
  await forward("-t", "nat", "-I", "POSTROUTING", "1", "-s", "10.77.0.0/24", "!", "-o", "shb4242", "-j", "MASQUERADE");
  // R counts the connections that come with the client's own address.
  await must(...inNs(R, "iptables", "-w", "-A", "INPUT", "-s", "10.77.0.2/32", "-p", "tcp", "--syn"));
  serve(L, "L");
  serve(R, "R");
  serve(I, "I");
  serve(J, "J");

  states.replaceAll([networkA(true), ingress]);
  controller.start();
  await controller.idle();
});

afterAll(async () => {
  await controller.stop();
  for (const s of servers) {
    s.kill("SIGKILL");
    if (s.exitCode === null && s.signalCode === null) await once(s, "exit");
  }
  for (const n of NAMESPACES) await exec(["ip", "netns", "delete", n]);
});

describe("NAT rules on a real kernel", () => {
  it("spreads connections to a virtual IP over the local and the remote endpoint", async () => {
    expect(await replies(C, "10.77.0.100", PORT, 16)).toEqual(new Set(["L", "R"]));
    // Across hosts the endpoint sees the client's own address: no SNAT, Docker's neither.
    const counted = await exec(inNs(R, "iptables-save", "-c", "-t", "filter"));
    const syns = /^\[(\d+):\d+\] -A INPUT -s 10\.77\.0\.2\/32/m.exec(counted.stdout)?.[1];
    expect(Number(syns)).toBeGreaterThan(0);
  });

  it("forwards every port of a virtual IP", async () => {
    // Nothing listens on 9090: the endpoint (not the host) refuses, whichever is picked.
    const out = await connect(C, "10.77.0.100", 9090);
    expect(out.stderr).toContain("Connection refused");
  });

  it("refuses connections to a virtual IP without a ready endpoint", async () => {
    const out = await connect(C, "10.77.0.101", PORT);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("Connection refused");
  });

  it("routes the routing mesh's published port to the ingress endpoints, from outside and from a task", async () => {
    expect(await replies(O, "192.168.77.1", 30080, 16)).toEqual(new Set(["I", "J"]));
    expect(await replies(C, "10.77.0.1", 30080, 16)).toEqual(new Set(["I", "J"]));
  });

  it("drops traffic between two networks, even after Docker put its rules on top", async () => {
    expect((await connect(I, "10.77.0.4", PORT)).stderr).toContain("timed out");
    // Docker inserts its bridge's FORWARD rules at the top when it makes a network (ingress here).
    const dockerRule = (...rule: string[]): Promise<void> =>
      must(...inNs(HOST, "iptables", "-w", "-I", "FORWARD", "1", ...rule, "-j", "ACCEPT"));
    await dockerRule("-o", "shb4096", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED");
    await dockerRule("-i", "shb4096", "!", "-o", "shb4096");
    controller.resync();
    await controller.idle();
    expect((await connect(I, "10.77.0.4", PORT)).stderr).toContain("timed out");
  });

  it("masquerades a connection that lands on a task of this host (hairpin), the client's own too", async () => {
    states.apply(AssignmentAction.UPDATE, networkA(false));
    await controller.idle();
    expect(await replies(C, "10.77.0.100", PORT, 4)).toEqual(new Set(["L"]));
    // A task reaching itself: br_netfilter bridges the DNATed frame back out of the port it came in
    // by, which the bridge does since the controller turned hairpin mode on for its ports.
    expect(await replies(L, "10.77.0.100", PORT, 2)).toEqual(new Set(["L"]));
    // The chain of the endpoint that went is deleted.
    const nat = await exec(inNs(HOST, "iptables-save", "-t", "nat"));
    expect(nat.stdout.match(/^:SHOAL-SEP-/gm)).toHaveLength(1);
  });

  it("takes every rule away on remove()", async () => {
    await controller.remove();
    const out = await exec(inNs(HOST, "iptables-save"));
    expect(out.stdout).not.toContain("SHOAL-");
    expect((await connect(C, "10.77.0.100", PORT)).stderr).toContain("Connection refused");
  });
});
