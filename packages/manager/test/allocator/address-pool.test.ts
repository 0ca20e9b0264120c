import { Network } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { AddressPool } from "../../src/allocator/address-pool.js";
import { network } from "./fixtures.js";

const take = (pool: AddressPool, n: number): string[] =>
  Array.from({ length: n }, (_, i) => {
    const a = pool.take(`o${i}`);
    return a === undefined ? "none" : pool.format(a);
  });

describe("AddressPool", () => {
  it("gives a /29's five host addresses, never the gateway, network or broadcast address", () => {
    const pool = AddressPool.of(network("n", "10.0.0.0/29"))!;
    expect(pool.free).toBe(5);
    expect(take(pool, 6)).toEqual(["10.0.0.2/29", "10.0.0.3/29", "10.0.0.4/29", "10.0.0.5/29", "10.0.0.6/29", "none"]);
  });

  it("keeps a given gateway out, and gives only from the range", () => {
    const withGateway = Network.fromPartial({
      id: "g",
      ipam: { configs: [{ subnet: "10.1.0.0/24", gateway: "10.1.0.3", range: "10.1.0.0/29" }] },
    });
    const pool = AddressPool.of(withGateway)!;
    // The range's own first address is the subnet's network address: not given either.
    expect(take(pool, 6)).toEqual([
      "10.1.0.1/24",
      "10.1.0.2/24",
      "10.1.0.4/24",
      "10.1.0.5/24",
      "10.1.0.6/24",
      "10.1.0.7/24",
    ]);
    expect(pool.take("x")).toBeUndefined();
  });

  it("goes on after the last address given, wrapping around, so a freed one comes back last", () => {
    const pool = AddressPool.of(network("n", "10.0.0.0/29"))!;
    const [a, b] = [pool.take("a")!, pool.take("b")!];
    pool.release(a, "a");
    pool.release(b, "someone else"); // only the holder frees an address
    expect(pool.holder(b)).toBe("b");
    expect(take(pool, 4)).toEqual(["10.0.0.4/29", "10.0.0.5/29", "10.0.0.6/29", "10.0.0.2/29"]);
  });

  it("records what the store says, and refuses a second holder and the gateway", () => {
    const pool = AddressPool.of(network("n", "10.0.0.0/24"))!;
    const addr = pool.addressOf("10.0.0.9/24")!;
    expect(pool.claim(addr, "t1")).toBe(true);
    expect(pool.claim(addr, "t1")).toBe(true);
    expect(pool.claim(addr, "t2")).toBe(false);
    expect(pool.claim(pool.addressOf("10.0.0.1/24")!, "t3")).toBe(false);
    expect(pool.addressOf("10.0.1.1/24")).toBeUndefined();
    expect(pool.addressOf("nonsense")).toBeUndefined();
    pool.startAfterHighest();
    expect(pool.format(pool.take("t4")!)).toBe("10.0.0.10/24");
  });

  it("is undefined for a network without a valid subnet", () => {
    expect(AddressPool.of(Network.fromPartial({ id: "x" }))).toBeUndefined();
    expect(AddressPool.of(network("y", "10.0.0.0/33"))).toBeUndefined();
  });
});
