// What the host should hold for one network, computed from its NetworkState alone (pure): the
// Docker bridge network, the VXLAN device, and per remote address a /32 route, a neighbour entry
// and the FDB entry of the peer that holds it; the addresses the bridge answers for.
import type { NetworkState } from "@shoal/shared";
import { addressOf, bridgeName, dockerNetworkName, vtepMac, vxlanName } from "../names.js";

/** A remote address: routed to the VXLAN device, resolved to the VXLAN MAC of its node. */
export interface RemoteAddress {
  readonly address: string;
  readonly mac: string;
}

/** Where frames for a peer's VXLAN MAC go: its data-path address. */
export interface FdbEntry {
  readonly mac: string;
  readonly dst: string;
}

export interface DesiredNetwork {
  readonly id: string;
  readonly vni: number;
  readonly dockerName: string;
  readonly bridge: string;
  readonly vxlan: string;
  /** CIDR, e.g. "10.0.1.0/24". */
  readonly subnet: string;
  /** Address without prefix; the host owns it on the bridge (Docker puts it there). */
  readonly gateway: string;
  /** Sorted by address. */
  readonly remotes: readonly RemoteAddress[];
  /** Sorted by MAC. */
  readonly fdb: readonly FdbEntry[];
  /** /32 addresses on the bridge (the services' virtual IPs, the node's own address), sorted. */
  readonly bridgeAddresses: readonly string[];
}

/** A NetworkState the data plane cannot build (named field), skipped until a better one comes. */
export class InvalidNetworkStateError extends Error {
  constructor(
    readonly networkId: string,
    readonly field: string,
    why: string,
  ) {
    super(`network ${networkId}: ${field}: ${why}`);
    this.name = "InvalidNetworkStateError";
  }
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4ToInt(address: string): number | undefined {
  const m = IPV4.exec(address);
  if (m === null) return undefined;
  const bytes = m.slice(1).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((acc, b) => acc * 256 + b, 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Parses "10.0.1.0/24" into its network address (as an integer) and prefix length. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const [addr, len, ...rest] = cidr.split("/");
  const prefix = Number(len);
  const n = ipv4ToInt(addr ?? "");
  if (rest.length > 0 || n === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: n - (n % size), prefix };
}

/** The desired host state of one network; throws InvalidNetworkStateError naming the field at fault. */
export function desiredNetwork(state: NetworkState): DesiredNetwork {
  const network = state.network;
  const id = network?.id ?? "";
  if (network === undefined || id === "") throw new InvalidNetworkStateError(id, "network.id", "missing");
  const config = network.ipam?.configs[0];
  const subnet = config?.subnet ?? "";
  const parsed = parseCidr(subnet);
  if (parsed === undefined) throw new InvalidNetworkStateError(id, "network.ipam.configs[0].subnet", `"${subnet}"`);
  let gateway = config?.gateway ?? "";
  if (gateway === "") gateway = intToIpv4(parsed.base + 1);
  else if (ipv4ToInt(addressOf(gateway)) === undefined) {
    throw new InvalidNetworkStateError(id, "network.ipam.configs[0].gateway", `"${gateway}"`);
  }
  gateway = addressOf(gateway);
  if (!(network.vni > 0 && network.vni < 2 ** 24)) {
    throw new InvalidNetworkStateError(id, "network.vni", `${network.vni} is not a VXLAN id`);
  }

  const remotes = new Map<string, string>();
  const fdb = new Map<string, string>();
  const peerMacs = new Map<string, string>();
  for (const [i, peer] of state.peers.entries()) {
    if (ipv4ToInt(peer.dataPathAddr) === undefined) {
      throw new InvalidNetworkStateError(id, `peers[${i}].data_path_addr`, `"${peer.dataPathAddr}"`);
    }
    const mac = vtepMac(peer.dataPathAddr);
    peerMacs.set(peer.nodeId, mac);
    fdb.set(mac, peer.dataPathAddr);
    if (peer.nodeAddress !== "") remotes.set(addressOf(peer.nodeAddress), mac);
  }
  // An endpoint is remote when its node is a peer; this node's own endpoints are not peers'.
  for (const endpoint of state.endpoints) {
    const mac = peerMacs.get(endpoint.nodeId);
    if (mac !== undefined && ipv4ToInt(endpoint.address) !== undefined) remotes.set(endpoint.address, mac);
  }
  const bridgeAddresses = new Set<string>();
  for (const service of state.services) if (service.virtualIp !== "") bridgeAddresses.add(addressOf(service.virtualIp));
  if (state.nodeAddress !== "") bridgeAddresses.add(addressOf(state.nodeAddress));
  bridgeAddresses.delete(gateway);

  return {
    id,
    vni: network.vni,
    dockerName: dockerNetworkName(id),
    bridge: bridgeName(network.vni),
    vxlan: vxlanName(network.vni),
    subnet: `${intToIpv4(parsed.base)}/${parsed.prefix}`,
    gateway,
    remotes: [...remotes].map(([address, mac]) => ({ address, mac })).sort(byKey((r) => ipv4ToInt(r.address) ?? 0)),
    fdb: [...fdb].map(([mac, dst]) => ({ mac, dst })).sort(byKey((e) => e.mac)),
    bridgeAddresses: [...bridgeAddresses].sort(byKey((a) => ipv4ToInt(a) ?? 0)),
  };
}

function byKey<T>(key: (t: T) => number | string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
