import { describe, expect, it } from "vitest";
import { addressPoolOption } from "../../src/commands/daemons.js";

describe("shoal manager --default-addr-pool", () => {
  it("passes the pools and mask length of a founding manager, none when not given", () => {
    expect(addressPoolOption({ defaultAddrPool: [] })).toEqual({});
    expect(
      addressPoolOption({ defaultAddrPool: ["10.20.0.0/16", "10.30.0.0/16"], defaultAddrPoolMaskLength: "26" }),
    ).toEqual({
      addressPool: { pools: ["10.20.0.0/16", "10.30.0.0/16"], subnetSize: 26 },
    });
    expect(addressPoolOption({ defaultAddrPool: ["10.20.0.0/16"] })).toEqual({
      addressPool: { pools: ["10.20.0.0/16"], subnetSize: 0 },
    });
  });

  it("refuses them on a joining manager, and a mask length that is not a number", () => {
    expect(() => addressPoolOption({ join: "m1:4242", defaultAddrPool: ["10.20.0.0/16"] })).toThrow(
      /--default-addr-pool: is for the manager that founds a cluster, not one that joins/,
    );
    expect(() => addressPoolOption({ join: "m1:4242", defaultAddrPool: [], defaultAddrPoolMaskLength: "24" })).toThrow(
      /--default-addr-pool-mask-length/,
    );
    expect(() => addressPoolOption({ defaultAddrPool: [], defaultAddrPoolMaskLength: "x" })).toThrow(
      /not a prefix length/,
    );
  });
});
