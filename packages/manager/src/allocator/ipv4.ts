// The allocator's view of IPv4 blocks ("10.0.1.0/24" as a base, a prefix and a size), on the
// parsing and arithmetic the Control API validates networks with (controlapi/network-subnets.ts).
import { parseCidr as parseCidrParts, subnetOf, subnetSize } from "../controlapi/network-subnets.js";

export { formatIpv4, parseIpv4 } from "../controlapi/network-subnets.js";

export interface Cidr {
  /** The first address of the block (host bits cleared). */
  readonly base: number;
  readonly prefix: number;
  /** Addresses in the block. */
  readonly size: number;
}

/** "10.0.1.0/24" as a block (host bits of the address given are cleared); undefined if malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const cidr = parseCidrParts(text);
  if (cidr === undefined) return undefined;
  return { base: subnetOf(cidr.addr, cidr.prefix).base, prefix: cidr.prefix, size: subnetSize(cidr.prefix) };
}
