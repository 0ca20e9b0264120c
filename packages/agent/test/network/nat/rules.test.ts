import { EndpointMode } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  MAX_CHAIN_LENGTH,
  meshEndpointChain,
  meshPortChain,
  serviceChain,
  serviceEndpointChain,
} from "../../../src/network/nat/chains.js";
import { declaredChains, iptablesRules, removalRules, shoalChainsOf } from "../../../src/network/nat/rules.js";
import { endpoint, ingressPort, networkState, vipService } from "./fixture.js";

const SELF = "node-self";

/** The rules of `chain` in a table's text, without the "-A CHAIN " prefix. */
function rulesOf(text: string, chain: string): string[] {
  const prefix = `-A ${chain} `;
  return text
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

function netA(endpoints = [endpoint("web", "10.0.1.4", SELF)], services = [vipService("web", "10.0.1.100")]) {
  return networkState({ id: "net-a", vni: 4100, subnet: "10.0.1.0/24", services, endpoints });
}

const ingress = (nodeAddress = "10.255.0.7/16") =>
  networkState({
    id: "net-ingress",
    vni: 4096,
    subnet: "10.255.0.0/16",
    ingress: true,
    nodeAddress,
    services: [vipService("web", "", [ingressPort(30080, 80), ingressPort(30053, 53, true)])],
    endpoints: [endpoint("web", "10.255.0.9", SELF), endpoint("web", "10.255.0.12", "node-other")],
  });

describe("virtual IPs", () => {
  it("DNATs a virtual IP with one endpoint to it, every port, from the network's bridge", () => {
    const { nat } = iptablesRules({ states: [netA([endpoint("web", "10.0.1.4", "node-other")])], nodeId: SELF });
    const svc = serviceChain("web", "net-a");
    const sep = serviceEndpointChain("web", "net-a", "10.0.1.4");
    expect(rulesOf(nat, "SHOAL-PREROUTING")).toEqual([`-i shb4100 -d 10.0.1.100/32 -j ${svc}`]);
    expect(rulesOf(nat, svc)).toEqual([`-j ${sep}`]);
    // A remote endpoint: no mark, no port change.
    expect(rulesOf(nat, sep)).toEqual(["-j DNAT --to-destination 10.0.1.4"]);
  });

  it("spreads over three ready endpoints with probabilities 1/3, 1/2, then the rest", () => {
    const endpoints = ["10.0.1.6", "10.0.1.4", "10.0.1.5"].map((a) => endpoint("web", a, "node-other"));
    endpoints.push(endpoint("web", "10.0.1.8", "node-other", false));
    const { nat } = iptablesRules({ states: [netA(endpoints)], nodeId: SELF });
    const sep = (a: string): string => serviceEndpointChain("web", "net-a", a);
    expect(rulesOf(nat, serviceChain("web", "net-a"))).toEqual([
      `-m statistic --mode random --probability 0.3333333333 -j ${sep("10.0.1.4")}`,
      `-m statistic --mode random --probability 0.5000000000 -j ${sep("10.0.1.5")}`,
      `-j ${sep("10.0.1.6")}`,
    ]);
    expect(nat).not.toContain("10.0.1.8");
  });

  it("writes no DNAT for a virtual IP without a ready endpoint, nor for dnsrr", () => {
    const dnsrr = { ...vipService("dns", ""), mode: EndpointMode.DNSRR };
    const state = netA(
      [endpoint("web", "10.0.1.4", SELF, false), endpoint("dns", "10.0.1.5", SELF)],
      [vipService("web", "10.0.1.100"), dnsrr],
    );
    const { nat } = iptablesRules({ states: [state], nodeId: SELF });
    expect(nat).not.toContain("DNAT");
    expect(nat).not.toContain("10.0.1.100");
    expect(rulesOf(nat, "SHOAL-PREROUTING")).toEqual([]);
  });

  it("marks connections to a local endpoint and masquerades them out of the bridge (hairpin)", () => {
    const endpoints = [endpoint("web", "10.0.1.4", SELF), endpoint("web", "10.0.1.5", "node-other")];
    const { nat } = iptablesRules({ states: [netA(endpoints)], nodeId: SELF });
    expect(rulesOf(nat, serviceEndpointChain("web", "net-a", "10.0.1.4"))).toEqual([
      "-j MARK --or-mark 0x100000",
      "-j DNAT --to-destination 10.0.1.4",
    ]);
    expect(rulesOf(nat, serviceEndpointChain("web", "net-a", "10.0.1.5"))).toEqual([
      "-j DNAT --to-destination 10.0.1.5",
    ]);
    expect(rulesOf(nat, "SHOAL-POSTROUTING")).toEqual([
      "-o shb4100 -m mark --mark 0x100000/0x100000 -j MASQUERADE",
      "-o shv+ -j ACCEPT",
      "-o shb+ -j ACCEPT",
      "-s 10.0.1.0/24 -j MASQUERADE",
    ]);
  });

  it("counts no endpoint as local while the node has no id", () => {
    const { nat } = iptablesRules({ states: [netA([endpoint("web", "10.0.1.4", "")])], nodeId: "" });
    expect(nat).not.toContain("MARK");
  });
});

describe("routing mesh", () => {
  it("DNATs each published port on a local address to endpoint:target port, after the virtual IPs", () => {
    const { nat } = iptablesRules({ states: [netA(), ingress()], nodeId: SELF });
    const tcp = meshPortChain("web", "tcp", 30080);
    const udp = meshPortChain("web", "udp", 30053);
    expect(rulesOf(nat, "SHOAL-PREROUTING")).toEqual([
      `-i shb4100 -d 10.0.1.100/32 -j ${serviceChain("web", "net-a")}`,
      "-m addrtype --dst-type LOCAL -j SHOAL-MESH",
    ]);
    expect(rulesOf(nat, "SHOAL-OUTPUT")).toEqual(["! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j SHOAL-MESH"]);
    expect(rulesOf(nat, "SHOAL-MESH")).toEqual([
      `-p tcp -m tcp --dport 30080 -j ${tcp}`,
      `-p udp -m udp --dport 30053 -j ${udp}`,
    ]);
    const iep = meshEndpointChain("web", "tcp", "10.255.0.12", 80);
    expect(rulesOf(nat, tcp)).toEqual([
      `-m statistic --mode random --probability 0.5000000000 -j ${iep}`,
      `-j ${meshEndpointChain("web", "tcp", "10.255.0.9", 80)}`,
    ]);
    expect(rulesOf(nat, iep)).toEqual(["-j MARK --or-mark 0x200000", "-p tcp -j DNAT --to-destination 10.255.0.12:80"]);
    expect(rulesOf(nat, meshEndpointChain("web", "udp", "10.255.0.9", 53))).toEqual([
      "-j MARK --or-mark 0x200000",
      "-p udp -j DNAT --to-destination 10.255.0.9:53",
    ]);
  });

  it("masquerades a network's traffic leaving the host by another interface (egress), not between tasks", () => {
    const { nat } = iptablesRules({ states: [netA(), ingress()], nodeId: SELF });
    const post = rulesOf(nat, "SHOAL-POSTROUTING");
    const accepts = post.indexOf("-o shb+ -j ACCEPT");
    expect(post.indexOf("-o shv+ -j ACCEPT")).toBeLessThan(accepts);
    expect(post.slice(accepts + 1)).toEqual(["-s 10.0.1.0/24 -j MASQUERADE", "-s 10.255.0.0/16 -j MASQUERADE"]);
  });

  it("SNATs mesh connections to the node's ingress address out of the ingress bridge and VXLAN device", () => {
    const { nat } = iptablesRules({ states: [ingress()], nodeId: SELF });
    expect(rulesOf(nat, "SHOAL-POSTROUTING")).toEqual([
      "-o shb4096 -m mark --mark 0x200000/0x200000 -j SNAT --to-source 10.255.0.7",
      "-o shv4096 -m mark --mark 0x200000/0x200000 -j SNAT --to-source 10.255.0.7",
      "-o shv+ -j ACCEPT",
      "-o shb+ -j ACCEPT",
      "-s 10.255.0.0/16 -j MASQUERADE",
    ]);
  });

  it("masquerades mesh connections while the node has no ingress address yet", () => {
    const { nat } = iptablesRules({ states: [ingress("")], nodeId: SELF });
    expect(rulesOf(nat, "SHOAL-POSTROUTING")[0]).toBe("-o shb4096 -m mark --mark 0x200000/0x200000 -j MASQUERADE");
  });

  it("opens no port of a host-mode port, a port not yet allocated, or a service without ready endpoint", () => {
    const state = ingress();
    const web = state.services[0]!;
    state.services = [
      { ...web, ports: [{ ...ingressPort(8080, 80), publishMode: 1 }, ingressPort(0, 81)] },
      vipService("idle", "", [ingressPort(30090, 80)]),
    ];
    const { nat } = iptablesRules({ states: [state], nodeId: SELF });
    expect(rulesOf(nat, "SHOAL-MESH")).toEqual([]);
    expect(rulesOf(nat, "SHOAL-PREROUTING")).toEqual([]);
  });
});

describe("isolation", () => {
  it("accepts within each network and the mesh's connections, and drops between networks", () => {
    const netB = networkState({ id: "net-b", vni: 4101, subnet: "10.0.2.0/24" });
    const { filter } = iptablesRules({ states: [netA(), netB, ingress()], nodeId: SELF });
    const within = (vni: number): string[] => [
      `-i shb${vni} -o shb${vni} -j ACCEPT`,
      `-i shb${vni} -o shv${vni} -j ACCEPT`,
      `-i shv${vni} -o shb${vni} -j ACCEPT`,
    ];
    expect(rulesOf(filter, "SHOAL-FORWARD")).toEqual([
      "-o shb4096 -m conntrack --ctstate DNAT -j ACCEPT",
      "-o shv4096 -m conntrack --ctstate DNAT -j ACCEPT",
      "-i shb4096 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      "-i shv4096 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
      ...within(4100),
      ...within(4101),
      ...within(4096),
      "-i shb+ -o shb+ -j DROP",
      "-i shb+ -o shv+ -j DROP",
      "-i shv+ -o shb+ -j DROP",
      "-i shv+ -o shv+ -j DROP",
    ]);
  });
});

describe("chains", () => {
  it("names chains stably, within 28 characters, one per service and network", () => {
    const names = [
      serviceChain("web", "net-a"),
      serviceChain("web", "net-b"),
      serviceChain("api", "net-a"),
      serviceEndpointChain("web", "net-a", "10.0.1.4"),
      meshPortChain("web", "tcp", 30080),
      meshEndpointChain("web", "tcp", "10.255.0.9", 80),
      serviceChain("x".repeat(64), "y".repeat(64)),
    ];
    for (const name of names) expect(name.length).toBeLessThanOrEqual(MAX_CHAIN_LENGTH);
    expect(new Set(names).size).toBe(names.length);
    expect(serviceChain("web", "net-a")).toBe(serviceChain("web", "net-a"));
    expect(serviceChain("web", "net-a")).toMatch(/^SHOAL-SVC-[0-9A-F]{16}$/);
  });

  it("gives the same text whatever the order of states, services and endpoints", () => {
    const endpoints = [endpoint("web", "10.0.1.4", SELF), endpoint("web", "10.0.1.5", "node-other")];
    const services = [vipService("web", "10.0.1.100"), vipService("api", "10.0.1.101")];
    const one = iptablesRules({ states: [netA(endpoints, services), ingress()], nodeId: SELF });
    const two = iptablesRules({
      states: [ingress(), netA([...endpoints].reverse(), [...services].reverse())],
      nodeId: SELF,
    });
    expect(two).toEqual(one);
  });

  it("declares every chain it writes and deletes SHOAL chains it no longer writes", () => {
    const gone = serviceChain("old", "net-a");
    const { nat, filter } = iptablesRules({
      states: [netA()],
      nodeId: SELF,
      existing: { nat: ["SHOAL-PREROUTING", gone, "DOCKER"], filter: ["SHOAL-FORWARD", "SHOAL-OLD"] },
    });
    const declared = declaredChains(nat);
    for (const line of nat.split("\n").filter((l) => l.startsWith("-A "))) {
      expect(declared).toContain(line.split(" ")[1]);
    }
    expect(declared).toContain(gone);
    expect(nat.split("\n").slice(-3)).toEqual([`-X ${gone}`, "COMMIT", ""]);
    expect(nat).not.toContain("DOCKER");
    expect(filter).toContain("-X SHOAL-OLD\nCOMMIT");
    expect(nat.startsWith("*nat\n")).toBe(true);
  });

  it("empties Shoal's chains and keeps them (the jumps stay harmless) when no network is left", () => {
    const existing = shoalChainsOf(iptablesRules({ states: [netA(), ingress()], nodeId: SELF }).nat);
    const { nat, filter } = iptablesRules({ states: [], nodeId: SELF, existing: { nat: existing, filter: [] } });
    expect(nat.split("\n").filter((l) => l.startsWith("-A "))).toEqual([]);
    expect(filter).toBe("*filter\n:SHOAL-FORWARD - [0:0]\nCOMMIT\n");
    expect(nat).not.toContain("-X SHOAL-PREROUTING");
    expect(nat).toContain(`-X ${serviceChain("web", "net-a")}`);
  });

  it("removal flushes and deletes every SHOAL chain and nothing else", () => {
    const { nat } = removalRules({ nat: ["SHOAL-PREROUTING", "DOCKER", "SHOAL-MESH"], filter: [] });
    expect(nat).toBe(
      "*nat\n:SHOAL-MESH - [0:0]\n:SHOAL-PREROUTING - [0:0]\n-X SHOAL-MESH\n-X SHOAL-PREROUTING\nCOMMIT\n",
    );
  });
});
