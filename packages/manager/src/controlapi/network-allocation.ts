// What the manager allocates when a network is made (by CreateNetwork, the ingress network and the
// move of networks kept in cluster labels: network-bootstrap.ts): its subnet (the spec's, which must
// overlap no other network's, else the next free one of the cluster's pool), its gateway (the
// spec's, else the subnet's first host address) and its VNI (the smallest unused from 4096). Runs
// inside the store transaction that creates the network, so two creates never take the same values.
import {
  ErrorCode,
  InvalidArgumentError,
  Network,
  ShoalError,
  type Cluster,
  type IPAMOptions,
  type NetworkSpec,
} from "@shoal/shared";
import type { WriteTx } from "../state/store/index.js";
import { formatIpv4, formatSubnet, nextFreeSubnet, overlaps, parseSubnet, type Ipv4Subnet } from "./network-subnets.js";

export const DEFAULT_ADDRESS_POOL = "10.0.0.0/8";
export const DEFAULT_SUBNET_SIZE = 24;
/** VNIs below this are left to other uses (Docker's swarm starts at 4096 too). */
export const FIRST_VNI = 4096;
export const MAX_VNI = 2 ** 24 - 1;

/** The subnet a network was allocated, if any. */
export function allocatedSubnet(network: Network): Ipv4Subnet | undefined {
  const text = network.ipam?.configs[0]?.subnet;
  return text ? parseSubnet(text) : undefined;
}

/** The cluster's pools (default 10.0.0.0/8) and subnet prefix length (default 24). */
export function addressPoolOf(cluster: Cluster | undefined): { pools: Ipv4Subnet[]; prefix: number } {
  const texts = cluster?.defaultAddressPool.length ? cluster.defaultAddressPool : [DEFAULT_ADDRESS_POOL];
  const pools = texts.map(parseSubnet).filter((p): p is Ipv4Subnet => p !== undefined);
  return { pools, prefix: cluster?.subnetSize || DEFAULT_SUBNET_SIZE };
}

/** The smallest VNI from FIRST_VNI that no network in `used` has. */
export function nextFreeVni(used: Iterable<number>): number {
  const taken = new Set(used);
  for (let vni = FIRST_VNI; vni <= MAX_VNI; vni++) if (!taken.has(vni)) return vni;
  throw new ShoalError(ErrorCode.ResourceExhausted, "no VXLAN network identifier is left");
}

const nameOf = (n: Network): string => n.spec?.annotations?.name || n.id;

/**
 * The IPAM (subnet, gateway, range) and VNI of a new network with `spec` among `others`. A subnet
 * given that overlaps another network's: INVALID_ARGUMENT naming both; none left in the pool:
 * RESOURCE_EXHAUSTED.
 */
export function allocateNetwork(
  spec: NetworkSpec,
  others: readonly Network[],
  cluster: Cluster | undefined,
): { ipam: IPAMOptions; vni: number } {
  const taken = others.flatMap((n) => {
    const s = allocatedSubnet(n);
    return s ? [{ network: n, subnet: s }] : [];
  });
  const asked = spec.ipam?.configs[0];
  let subnet: Ipv4Subnet;
  if (asked?.subnet) {
    subnet = parseSubnet(asked.subnet)!; // validated before
    const clash = taken.find((t) => overlaps(t.subnet, subnet));
    if (clash) {
      throw new InvalidArgumentError(
        `subnet ${asked.subnet} overlaps subnet ${formatSubnet(clash.subnet)} of network ${nameOf(clash.network)}`,
        { field: "spec.ipam.configs[0].subnet" },
      );
    }
  } else {
    const { pools, prefix } = addressPoolOf(cluster);
    const free = nextFreeSubnet(
      pools,
      prefix,
      taken.map((t) => t.subnet),
    );
    if (!free) {
      throw new ShoalError(
        ErrorCode.ResourceExhausted,
        `no /${prefix} subnet is left in the cluster's address pool ${pools.map(formatSubnet).join(", ")}`,
      );
    }
    subnet = free;
  }
  const gateway = asked?.gateway || formatIpv4(subnet.base + 1);
  return {
    ipam: {
      driver: { name: "default", options: {} },
      configs: [{ subnet: formatSubnet(subnet), gateway, range: asked?.range ?? "" }],
    },
    vni: nextFreeVni(others.map((n) => n.vni)),
  };
}

/** Creates the network in `tx` with its allocated values (the spec validated before); returns it. */
export function createNetworkIn(tx: WriteTx, id: string, spec: NetworkSpec): Network {
  const others = tx.networks.find();
  const { ipam, vni } = allocateNetwork(spec, others, tx.clusters.find()[0]);
  const network = Network.fromPartial({ id, spec, ipam, vni });
  tx.networks.create(network);
  return network;
}
