import { EndpointMode } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { hairpinBridges, portsWithoutHairpin } from "../../../src/network/nat/hairpin.js";
import { networkState, vipService } from "./fixture.js";

describe("hairpin", () => {
  it("picks the bridges of networks with a virtual IP", () => {
    const dnsrr = { ...vipService("db", ""), mode: EndpointMode.DNSRR };
    const states = [
      networkState({ id: "a", vni: 4100, subnet: "10.0.1.0/24", services: [vipService("web", "10.0.1.100")] }),
      networkState({ id: "b", vni: 4101, subnet: "10.0.2.0/24", services: [dnsrr] }),
      networkState({ id: "ingress", vni: 4096, subnet: "10.255.0.0/16", ingress: true }),
    ];
    expect(hairpinBridges(states)).toEqual(["shb4100"]);
  });

  it("reads the ports with hairpin off from `ip -o -d link show master BRIDGE`", () => {
    const line = (index: number, name: string, hairpin: string): string =>
      `${index}: ${name}@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master shb4100 state UP\\    ` +
      `link/ether 3a:2a:3d:44:0c:30 brd ff:ff:ff:ff:ff:ff \\    veth \\    bridge_slave state forwarding ` +
      `priority 32 cost 2 hairpin ${hairpin} guard off root_block off`;
    const output = [line(7, "veth1a2b3c", "off"), line(9, "veth4d5e6f", "on"), line(11, "v-l", "off"), ""].join("\n");
    expect(portsWithoutHairpin(output)).toEqual(["veth1a2b3c", "v-l"]);
  });
});
