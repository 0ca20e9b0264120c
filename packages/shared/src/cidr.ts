// Addresses as the network objects carry them: "10.0.1.5/24" (an address and its network's prefix).

/** The address of a CIDR, without its prefix ("10.0.1.5/24" -> "10.0.1.5"); a bare address as is. */
export function cidrAddress(cidr: string): string {
  const slash = cidr.indexOf("/");
  return slash < 0 ? cidr : cidr.slice(0, slash);
}
