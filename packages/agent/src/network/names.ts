// The names and addresses the agent's network parts agree on: Docker network, bridge and VXLAN
// device names (derived from the VNI: Linux allows 15 characters), and the VXLAN MAC of a node
// (derived from its data-path address, so every node computes any peer's without asking).
import { cidrAddress } from "@shoal/shared";

/** The address part of a CIDR ("10.0.1.5/24" -> "10.0.1.5"). */
export const addressOf = cidrAddress;

/** Docker's bridge network for a Shoal network. */
export function dockerNetworkName(networkId: string): string {
  return `shoal-${networkId}`;
}

/** The Linux bridge Docker makes for the network. */
export function bridgeName(vni: number): string {
  return `shb${vni}`;
}

/** The network's VXLAN device. */
export function vxlanName(vni: number): string {
  return `shv${vni}`;
}

/** The VXLAN MAC of the node whose data-path address is `ipv4`: 02:5e and the address's 4 bytes. */
export function vtepMac(ipv4: string): string {
  const bytes = ipv4.split(".").map((b) => Number(b));
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new Error(`not an IPv4 address: ${ipv4}`);
  }
  return ["02", "5e", ...bytes.map((b) => b.toString(16).padStart(2, "0"))].join(":");
}
