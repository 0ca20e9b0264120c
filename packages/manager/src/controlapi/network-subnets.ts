// IPv4 addresses and subnets as numbers: parsing and formatting CIDRs, overlap and containment,
// and the search for the next free subnet of a given size in an address pool (networks' subnets).
// Pure; the store is read by network-allocation.ts.

/** A subnet: its first address (host bits zero) and prefix length. */
export interface Ipv4Subnet {
  readonly base: number;
  readonly prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The address as an unsigned 32-bit number, or undefined when `text` is not a dotted IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** How many addresses a subnet of this prefix length holds. */
export function subnetSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** A CIDR's address and prefix, or undefined when it is not "A.B.C.D/N" (N 0..32). */
export function parseCidr(text: string): { readonly addr: number; readonly prefix: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addr = parseIpv4(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  return { addr, prefix: Number(bits) };
}

/** The subnet `addr` lies in, for this prefix (the host bits cleared). */
export function subnetOf(addr: number, prefix: number): Ipv4Subnet {
  const size = subnetSize(prefix);
  return { base: addr - (addr % size), prefix };
}

export function formatSubnet(s: Ipv4Subnet): string {
  return `${formatIpv4(s.base)}/${s.prefix}`;
}

/** The subnet "A.B.C.D/N" names exactly (host bits zero), or undefined. */
export function parseSubnet(text: string): Ipv4Subnet | undefined {
  const cidr = parseCidr(text);
  if (!cidr) return undefined;
  const subnet = subnetOf(cidr.addr, cidr.prefix);
  return subnet.base === cidr.addr ? subnet : undefined;
}

/** The last address of the subnet. */
export function lastOf(s: Ipv4Subnet): number {
  return s.base + subnetSize(s.prefix) - 1;
}

export function overlaps(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/** Whether `inner` lies wholly inside `outer`. */
export function containsSubnet(outer: Ipv4Subnet, inner: Ipv4Subnet): boolean {
  return inner.base >= outer.base && lastOf(inner) <= lastOf(outer);
}

export function containsAddr(s: Ipv4Subnet, addr: number): boolean {
  return addr >= s.base && addr <= lastOf(s);
}

/**
 * The first subnet of prefix length `prefix` inside one of `pools` (in their order, lowest
 * address first) that overlaps none of `taken`; undefined when every one is taken.
 */
export function nextFreeSubnet(
  pools: readonly Ipv4Subnet[],
  prefix: number,
  taken: readonly Ipv4Subnet[],
): Ipv4Subnet | undefined {
  const size = subnetSize(prefix);
  for (const pool of pools) {
    if (pool.prefix > prefix) continue;
    let base = pool.base;
    while (base + size - 1 <= lastOf(pool)) {
      const candidate = { base, prefix };
      // Skip past the taken subnet in the way rather than step by one subnet at a time.
      const clash = taken.find((t) => overlaps(t, candidate));
      if (!clash) return candidate;
      const after = lastOf(clash) + 1;
      base = Math.max(base + size, after + ((size - (after % size)) % size));
    }
  }
  return undefined;
}
