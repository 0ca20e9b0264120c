// The iptables rules of the node's networks, as iptables-restore input: a pure function of the
// NetworkStates' states and this node's id (kube-proxy's iptables mode, per network).
//
// nat:
//   SHOAL-PREROUTING  -i <bridge> -d <vip>/32 -> SHOAL-SVC-x (a virtual IP, every port), then
//                     -m addrtype --dst-type LOCAL -> SHOAL-MESH (the routing mesh)
//   SHOAL-OUTPUT      the routing mesh for connections the host opens (not to 127.0.0.0/8)
//   SHOAL-SVC-x       -m statistic 1/n, 1/(n-1), ..., 1 -> SHOAL-SEP-y (one per ready endpoint)
//   SHOAL-SEP-y       [MARK hairpin when the endpoint is on this node] DNAT to its address
//   SHOAL-MESH        -p <proto> --dport <published> -> SHOAL-ING-x
//   SHOAL-ING-x       statistic over the service's ready ingress endpoints -> SHOAL-IEP-y
//   SHOAL-IEP-y       MARK mesh, DNAT to address:target port
//   SHOAL-POSTROUTING hairpin-marked out of a bridge: MASQUERADE; mesh-marked out of the ingress
//                     devices: SNAT to the node's ingress address; nothing else out of a VXLAN
//                     device or into a bridge is rewritten (traffic between hosts is routed with
//                     its own addresses); a task's traffic leaving the host by any other
//                     interface (egress) is masqueraded, as Docker's bridge networks do
// filter:
//   SHOAL-FORWARD     mesh connections into ingress and their replies: ACCEPT; between the
//                     devices of one network: ACCEPT; between Shoal devices otherwise: DROP
//
// Every chain a sync writes is declared (which creates or flushes it); chains with the SHOAL-
// prefix that exist but are not written any more are declared too (flushed, so nothing refers
// to another) and deleted, in the same transaction.
import { EndpointMode, PortProtocol, PublishMode, type NetworkEndpoint, type NetworkState } from "@shoal/shared";
import { addressOf, bridgeName, vxlanName } from "../names.js";
import { networkId } from "../network-states.js";
import {
  CHAIN_PREFIX,
  FORWARD_CHAIN,
  HAIRPIN_MARK,
  MESH_CHAIN,
  MESH_MARK,
  OUTPUT_CHAIN,
  POSTROUTING_CHAIN,
  PREROUTING_CHAIN,
  meshEndpointChain,
  meshPortChain,
  serviceChain,
  serviceEndpointChain,
} from "./chains.js";

/** iptables' interface wildcards for every Shoal bridge and every Shoal VXLAN device ("shb+"). */
const EVERY_BRIDGE = `${bridgeName(0).slice(0, -1)}+`;
const EVERY_VXLAN = `${vxlanName(0).slice(0, -1)}+`;

/** The SHOAL-* chains that exist now, per table (from iptables-save). */
export interface ExistingChains {
  readonly nat: readonly string[];
  readonly filter: readonly string[];
}

export interface RulesInput {
  /** The node's networks (NetworkStates.all()). */
  readonly states: readonly NetworkState[];
  /** This node's id: endpoints with it are local (hairpin). Empty: none is. */
  readonly nodeId: string;
  /** Chains to delete when this sync does not write them; default none. */
  readonly existing?: ExistingChains;
}

/** iptables-restore input, one transaction per table (for `iptables-restore --noflush`). */
export interface IptablesRules {
  readonly nat: string;
  readonly filter: string;
}

/** The rules of `input.states`. */
export function iptablesRules(input: RulesInput): IptablesRules {
  const nat = new Table("nat", [PREROUTING_CHAIN, OUTPUT_CHAIN, POSTROUTING_CHAIN, MESH_CHAIN]);
  const filter = new Table("filter", [FORWARD_CHAIN]);
  const states = input.states
    .filter((s) => s.network !== undefined && networkId(s) !== "")
    .sort((a, b) => compare(networkId(a), networkId(b)));
  for (const state of states) virtualIps(nat, state, input.nodeId);
  const ingress = states.find((s) => s.network?.spec?.ingress === true);
  if (ingress !== undefined) routingMesh(nat, ingress);
  if (states.length > 0) {
    nat.rule(POSTROUTING_CHAIN, `-o ${EVERY_VXLAN} -j ACCEPT`);
    nat.rule(POSTROUTING_CHAIN, `-o ${EVERY_BRIDGE} -j ACCEPT`);
  }
  for (const state of states) egress(nat, state);
  isolation(filter, states, ingress);
  return { nat: nat.render(input.existing?.nat ?? []), filter: filter.render(input.existing?.filter ?? []) };
}

/** The chains (in order) that the rules of a table declare. */
export function declaredChains(restoreText: string): string[] {
  return restoreText
    .split("\n")
    .filter((l) => l.startsWith(":"))
    .map((l) => l.slice(1).split(" ")[0] ?? "");
}

/** The SHOAL-* chains an `iptables-save -t TABLE` output lists. */
export function shoalChainsOf(saveOutput: string): string[] {
  return declaredChains(saveOutput).filter((c) => c.startsWith(CHAIN_PREFIX));
}

/** A network's tasks reach beyond the cluster (the internet, the hosts) masqueraded to the host. */
function egress(nat: Table, state: NetworkState): void {
  const subnet = state.network?.ipam?.configs[0]?.subnet ?? "";
  if (subnet !== "") nat.rule(POSTROUTING_CHAIN, `-s ${subnet} -j MASQUERADE`);
}

function virtualIps(nat: Table, state: NetworkState, nodeId: string): void {
  const id = networkId(state);
  const bridge = bridgeName(state.network?.vni ?? 0);
  let any = false;
  for (const svc of byServiceId(state.services)) {
    if (svc.mode !== EndpointMode.VIP || svc.virtualIp === "") continue;
    const endpoints = readyEndpoints(state, svc.serviceId);
    // No ready endpoint: no DNAT, so a connection to the virtual IP is refused by the host.
    if (endpoints.length === 0) continue;
    const chain = serviceChain(svc.serviceId, id);
    if (nat.has(chain)) continue;
    nat.rule(PREROUTING_CHAIN, `-i ${bridge} -d ${addressOf(svc.virtualIp)}/32 -j ${chain}`);
    const targets = endpoints.map((ep) => {
      const sep = serviceEndpointChain(svc.serviceId, id, ep.address);
      if (ep.nodeId !== "" && ep.nodeId === nodeId) nat.rule(sep, `-j MARK --or-mark ${HAIRPIN_MARK}`);
      nat.rule(sep, `-j DNAT --to-destination ${ep.address}`);
      return sep;
    });
    spread(nat, chain, targets);
    any = true;
  }
  // The reply of a local endpoint would go straight to the client, past the host's NAT.
  if (any) nat.rule(POSTROUTING_CHAIN, `-o ${bridge} -m mark --mark ${HAIRPIN_MARK}/${HAIRPIN_MARK} -j MASQUERADE`);
}

function routingMesh(nat: Table, ingress: NetworkState): void {
  const vni = ingress.network?.vni ?? 0;
  const ports = new Set<string>();
  for (const svc of byServiceId(ingress.services)) {
    const endpoints = readyEndpoints(ingress, svc.serviceId);
    if (endpoints.length === 0) continue;
    for (const port of svc.ports) {
      if (port.publishMode !== PublishMode.INGRESS || port.publishedPort === 0) continue;
      const proto = port.protocol === PortProtocol.UDP ? "udp" : "tcp";
      // Two services cannot publish one port; should the state say so, the first keeps it.
      if (ports.has(`${proto}/${port.publishedPort}`)) continue;
      ports.add(`${proto}/${port.publishedPort}`);
      const target = port.targetPort === 0 ? port.publishedPort : port.targetPort;
      const chain = meshPortChain(svc.serviceId, proto, port.publishedPort);
      nat.rule(MESH_CHAIN, `-p ${proto} -m ${proto} --dport ${port.publishedPort} -j ${chain}`);
      const targets = endpoints.map((ep) => {
        const iep = meshEndpointChain(svc.serviceId, proto, ep.address, target);
        nat.rule(iep, `-j MARK --or-mark ${MESH_MARK}`);
        nat.rule(iep, `-p ${proto} -j DNAT --to-destination ${ep.address}:${target}`);
        return iep;
      });
      spread(nat, chain, targets);
    }
  }
  if (ports.size === 0) return;
  nat.rule(PREROUTING_CHAIN, `-m addrtype --dst-type LOCAL -j ${MESH_CHAIN}`);
  nat.rule(OUTPUT_CHAIN, `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${MESH_CHAIN}`);
  // Replies must come back through this node: from its own ingress address, which every peer
  // routes to it. Without one (not yet allocated), the bridge's address serves local endpoints.
  const source = addressOf(ingress.nodeAddress);
  const snat = source === "" ? "-j MASQUERADE" : `-j SNAT --to-source ${source}`;
  for (const dev of [bridgeName(vni), vxlanName(vni)]) {
    nat.rule(POSTROUTING_CHAIN, `-o ${dev} -m mark --mark ${MESH_MARK}/${MESH_MARK} ${snat}`);
  }
}

function isolation(filter: Table, states: readonly NetworkState[], ingress: NetworkState | undefined): void {
  if (ingress !== undefined) {
    const vni = ingress.network?.vni ?? 0;
    const devices = [bridgeName(vni), vxlanName(vni)];
    for (const dev of devices) filter.rule(FORWARD_CHAIN, `-o ${dev} -m conntrack --ctstate DNAT -j ACCEPT`);
    for (const dev of devices) {
      filter.rule(FORWARD_CHAIN, `-i ${dev} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    }
  }
  for (const state of states) {
    const vni = state.network?.vni ?? 0;
    const [bridge, vxlan] = [bridgeName(vni), vxlanName(vni)];
    for (const [from, to] of [
      [bridge, bridge],
      [bridge, vxlan],
      [vxlan, bridge],
    ]) {
      filter.rule(FORWARD_CHAIN, `-i ${from} -o ${to} -j ACCEPT`);
    }
  }
  if (states.length === 0) return;
  const every = [EVERY_BRIDGE, EVERY_VXLAN];
  for (const from of every) for (const to of every) filter.rule(FORWARD_CHAIN, `-i ${from} -o ${to} -j DROP`);
}

/** kube-proxy's spread: rule i of n jumps with probability 1/(n-i), the last one always. */
function spread(nat: Table, chain: string, targets: readonly string[]): void {
  targets.forEach((target, i) => {
    const left = targets.length - i;
    const match = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : "";
    nat.rule(chain, `${match}-j ${target}`);
  });
}

function readyEndpoints(state: NetworkState, serviceId: string): NetworkEndpoint[] {
  const seen = new Set<string>();
  return state.endpoints
    .filter((ep) => ep.serviceId === serviceId && ep.ready && ep.address !== "")
    .map((ep) => ({ ...ep, address: addressOf(ep.address) }))
    .sort((a, b) => compare(a.address, b.address))
    .filter((ep) => !seen.has(ep.address) && seen.add(ep.address));
}

function byServiceId<T extends { serviceId: string }>(services: readonly T[]): T[] {
  return [...services].filter((s) => s.serviceId !== "").sort((a, b) => compare(a.serviceId, b.serviceId));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One table's transaction: chains in the order first used, rules in the order added. */
class Table {
  private readonly chains = new Set<string>();
  private readonly rules: string[] = [];

  constructor(
    private readonly name: string,
    base: readonly string[],
  ) {
    for (const chain of base) this.chains.add(chain);
  }

  has(chain: string): boolean {
    return this.chains.has(chain);
  }

  rule(chain: string, spec: string): void {
    this.chains.add(chain);
    this.rules.push(`-A ${chain} ${spec}`);
  }

  render(existing: readonly string[]): string {
    const stale = [...new Set(existing)].filter((c) => c.startsWith(CHAIN_PREFIX) && !this.chains.has(c)).sort();
    return [
      `*${this.name}`,
      ...[...this.chains, ...stale].map((c) => `:${c} - [0:0]`),
      ...this.rules,
      ...stale.map((c) => `-X ${c}`),
      "COMMIT",
      "",
    ].join("\n");
  }
}

/** Deletes every chain of `existing` (after the jumps into them are gone). */
export function removalRules(existing: ExistingChains): IptablesRules {
  const render = (table: string, chains: readonly string[]): string => {
    const shoal = [...new Set(chains)].filter((c) => c.startsWith(CHAIN_PREFIX)).sort();
    return [`*${table}`, ...shoal.map((c) => `:${c} - [0:0]`), ...shoal.map((c) => `-X ${c}`), "COMMIT", ""].join("\n");
  };
  return { nat: render("nat", existing.nat), filter: render("filter", existing.filter) };
}
