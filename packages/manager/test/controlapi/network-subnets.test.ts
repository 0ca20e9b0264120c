import { describe, expect, it } from "vitest";
import {
  formatIpv4,
  formatSubnet,
  nextFreeSubnet,
  overlaps,
  parseCidr,
  parseIpv4,
  parseSubnet,
} from "../../src/controlapi/network-subnets.js";

const net = (text: string) => parseSubnet(text)!;

describe("IPv4 subnets", () => {
  it("parses and formats addresses and CIDRs, refusing what is not one", () => {
    expect(parseIpv4("10.255.0.1")).toBe(10 * 2 ** 24 + 255 * 2 ** 16 + 1);
    expect(formatIpv4(parseIpv4("192.168.1.254")!)).toBe("192.168.1.254");
    for (const bad of ["10.0.0", "10.0.0.256", "01.0.0.1", "a.b.c.d", "", "10.0.0.1.1"]) {
      expect(parseIpv4(bad)).toBeUndefined();
    }
    expect(parseCidr("10.0.1.5/24")).toEqual({ addr: parseIpv4("10.0.1.5"), prefix: 24 });
    expect(parseCidr("10.0.1.0/33")).toBeUndefined();
    expect(parseCidr("10.0.1.0")).toBeUndefined();
    expect(parseSubnet("10.0.1.5/24")).toBeUndefined(); // host bits set
    expect(formatSubnet(net("10.0.1.0/24"))).toBe("10.0.1.0/24");
  });

  it("tells overlapping subnets", () => {
    expect(overlaps(net("10.0.0.0/8"), net("10.1.2.0/24"))).toBe(true);
    expect(overlaps(net("10.0.1.0/24"), net("10.0.2.0/24"))).toBe(false);
    expect(overlaps(net("10.0.0.0/23"), net("10.0.1.0/24"))).toBe(true);
  });

  it("finds the next free subnet of a pool, skipping taken ones of any size, or none", () => {
    const pool = [net("10.0.0.0/8")];
    expect(formatSubnet(nextFreeSubnet(pool, 24, [])!)).toBe("10.0.0.0/24");
    expect(formatSubnet(nextFreeSubnet(pool, 24, [net("10.0.0.0/24"), net("10.0.1.0/24")])!)).toBe("10.0.2.0/24");
    // A bigger taken subnet is skipped whole; a smaller one blocks its /24.
    expect(formatSubnet(nextFreeSubnet(pool, 24, [net("10.0.0.0/16")])!)).toBe("10.1.0.0/24");
    expect(formatSubnet(nextFreeSubnet(pool, 24, [net("10.0.0.128/25")])!)).toBe("10.0.1.0/24");
    // A tiny pool: two /25s in a /24, then nothing; the next pool is used.
    const tiny = [net("192.168.5.0/24")];
    const both = [net("192.168.5.0/25"), net("192.168.5.128/25")];
    expect(nextFreeSubnet(tiny, 25, both)).toBeUndefined();
    expect(formatSubnet(nextFreeSubnet([...tiny, net("172.20.0.0/16")], 25, both)!)).toBe("172.20.0.0/25");
    // A pool smaller than the size asked gives nothing.
    expect(nextFreeSubnet([net("192.168.5.0/26")], 24, [])).toBeUndefined();
  });
});
