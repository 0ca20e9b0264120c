// The names of Shoal's own iptables chains and the marks its rules set. Per-service chains are
// named from a short hash of what they stand for, so the same state always gives the same names
// (a sync rewrites a chain in place) and every name fits iptables' 28 characters.
import { createHash } from "node:crypto";

/** Every chain Shoal writes starts with this; a chain with it that a sync does not write is stale. */
export const CHAIN_PREFIX = "SHOAL-";
/** iptables' longest chain name (XT_EXTENSION_MAXNAMELEN less the final NUL). */
export const MAX_CHAIN_LENGTH = 28;

/** nat: reached from PREROUTING (virtual IPs, then the routing mesh). */
export const PREROUTING_CHAIN = "SHOAL-PREROUTING";
/** nat: reached from OUTPUT (the routing mesh, for connections the host opens). */
export const OUTPUT_CHAIN = "SHOAL-OUTPUT";
/** nat: reached from POSTROUTING (hairpin masquerade, the mesh's SNAT). */
export const POSTROUTING_CHAIN = "SHOAL-POSTROUTING";
/** nat: the published ports of the routing mesh, for packets to a local address. */
export const MESH_CHAIN = "SHOAL-MESH";
/** filter: reached from FORWARD (isolation between networks). */
export const FORWARD_CHAIN = "SHOAL-FORWARD";

/** A jump from a built-in chain into one of Shoal's, made once, at the top of the built-in chain. */
export interface Jump {
  readonly table: "nat" | "filter";
  readonly from: string;
  readonly to: string;
}

export const JUMPS: readonly Jump[] = [
  { table: "nat", from: "PREROUTING", to: PREROUTING_CHAIN },
  { table: "nat", from: "OUTPUT", to: OUTPUT_CHAIN },
  { table: "nat", from: "POSTROUTING", to: POSTROUTING_CHAIN },
  { table: "filter", from: "FORWARD", to: FORWARD_CHAIN },
];

/** Set on a connection to a virtual IP whose endpoint is on this node: masqueraded (hairpin). */
export const HAIRPIN_MARK = "0x100000";
/** Set on a routing-mesh connection: SNATed to the node's ingress address. */
export const MESH_MARK = "0x200000";

/** nat: a service's virtual IP on a network, spread over its ready endpoints. */
export function serviceChain(serviceId: string, networkId: string): string {
  return `SHOAL-SVC-${shortHash(serviceId, networkId)}`;
}

/** nat: one endpoint behind a virtual IP (DNAT to its address, every port). */
export function serviceEndpointChain(serviceId: string, networkId: string, address: string): string {
  return `SHOAL-SEP-${shortHash(serviceId, networkId, address)}`;
}

/** nat: a published port of the routing mesh, spread over the service's ready ingress endpoints. */
export function meshPortChain(serviceId: string, protocol: string, publishedPort: number): string {
  return `SHOAL-ING-${shortHash(serviceId, protocol, String(publishedPort))}`;
}

/** nat: one ingress endpoint behind a published port (DNAT to its address and target port). */
export function meshEndpointChain(serviceId: string, protocol: string, address: string, targetPort: number): string {
  return `SHOAL-IEP-${shortHash(serviceId, protocol, address, String(targetPort))}`;
}

/** 16 hex digits (64 bits) of the SHA-256 of the parts. */
function shortHash(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 16).toUpperCase();
}
