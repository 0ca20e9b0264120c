// The addresses of one network: who holds which, and the next one to give. Addresses are given in
// order after the last one given, wrapping around, so that a freed address is not given again at
// once. The subnet's network and broadcast addresses and the gateway are never given; with an
// IPAM range, only addresses within it are.
import type { Network } from "@shoal/shared";
import { formatIpv4, parseCidr, parseIpv4, type Cidr } from "./ipv4.js";

export class AddressPool {
  /** Address -> owner (see allocations.ts: "t:ID", "s:ID", "n:ID"). */
  private readonly used = new Map<number, string>();
  /** First and last address that may be given. */
  private readonly low: number;
  private readonly high: number;
  /** Addresses from low to high that may be given. */
  private readonly capacity: number;
  /** Of them, how many are held. */
  private held = 0;
  /** The address given last; the search for the next starts after it. */
  private cursor: number;

  private constructor(
    readonly networkId: string,
    readonly name: string,
    private readonly subnet: Cidr,
    private readonly gateway: number | undefined,
    range: Cidr,
  ) {
    const small = subnet.size < 4; // a /31 or /32 has no network or broadcast address to keep
    const subnetLow = small ? subnet.base : subnet.base + 1;
    const subnetHigh = small ? subnet.base + subnet.size - 1 : subnet.base + subnet.size - 2;
    this.low = Math.max(subnetLow, range.base);
    this.high = Math.min(subnetHigh, range.base + range.size - 1);
    const gatewayInside = gateway !== undefined && gateway >= this.low && gateway <= this.high;
    this.capacity = Math.max(0, this.high - this.low + 1 - (gatewayInside ? 1 : 0));
    this.cursor = this.low - 1;
  }

  /** The pool of an allocated network (Network.ipam's first config); undefined without a valid subnet. */
  static of(network: Network): AddressPool | undefined {
    const config = network.ipam?.configs[0];
    const subnet = parseCidr(config?.subnet ?? "");
    if (config === undefined || subnet === undefined) return undefined;
    const gateway = config.gateway === "" ? subnet.base + 1 : parseIpv4(config.gateway);
    const range = (config.range === "" ? undefined : parseCidr(config.range)) ?? subnet;
    const name = network.spec?.annotations?.name || network.id;
    return new AddressPool(network.id, name, subnet, gateway, range);
  }

  /** Same subnet, gateway and range as `other` would give. */
  sameLayout(other: AddressPool): boolean {
    return (
      this.subnet.base === other.subnet.base &&
      this.subnet.prefix === other.subnet.prefix &&
      this.gateway === other.gateway &&
      this.low === other.low &&
      this.high === other.high
    );
  }

  /** Addresses still free to give. */
  get free(): number {
    return this.capacity - this.held;
  }

  /** The address of a CIDR written by the allocator, if it is one of this subnet's host addresses. */
  addressOf(cidr: string): number | undefined {
    const slash = cidr.indexOf("/");
    const address = parseIpv4(slash < 0 ? cidr : cidr.slice(0, slash));
    if (address === undefined || address < this.subnet.base || address >= this.subnet.base + this.subnet.size) {
      return undefined;
    }
    return address;
  }

  /** "10.0.1.5/24" */
  format(address: number): string {
    return `${formatIpv4(address)}/${this.subnet.prefix}`;
  }

  /** Who holds the address, if anyone. */
  holder(address: number): string | undefined {
    return this.used.get(address);
  }

  /**
   * Records that `owner` holds `address` (read from the store). False if another owner holds it
   * or it is the gateway: the caller logs it, the first holder keeps it.
   */
  claim(address: number, owner: string): boolean {
    const holder = this.used.get(address);
    if (holder !== undefined) return holder === owner;
    if (address === this.gateway) return false;
    this.used.set(address, owner);
    if (address >= this.low && address <= this.high) this.held++;
    return true;
  }

  /** Frees the address if `owner` holds it. */
  release(address: number, owner: string): void {
    if (this.used.get(address) !== owner) return;
    this.used.delete(address);
    if (address >= this.low && address <= this.high) this.held--;
  }

  /** Gives the next free address after the last one given to `owner`; undefined when none is left. */
  take(owner: string): number | undefined {
    if (this.free <= 0) return undefined;
    const span = this.high - this.low + 1;
    let candidate = this.cursor;
    for (let i = 0; i < span; i++) {
      candidate = candidate >= this.high ? this.low : candidate + 1;
      if (candidate === this.gateway || this.used.has(candidate)) continue;
      this.cursor = candidate;
      this.claim(candidate, owner);
      return candidate;
    }
    return undefined;
  }

  /** The address given last (where the next search starts). */
  get last(): number {
    return this.cursor;
  }

  /** Sets where the next search starts: after `address` (a new leader's start, an undone take). */
  startAfter(address: number): void {
    this.cursor = Math.min(Math.max(address, this.low - 1), this.high);
  }

  /** After a rebuild with nothing better known: the next address comes after the highest one held. */
  startAfterHighest(): void {
    let highest = this.low - 1;
    for (const address of this.used.keys()) if (address <= this.high && address > highest) highest = address;
    this.cursor = highest;
  }
}
