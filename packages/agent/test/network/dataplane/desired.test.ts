import { describe, expect, it } from "vitest";
import { desiredNetwork, InvalidNetworkStateError } from "../../../src/network/dataplane/desired.js";
import { stateOfA } from "./fixtures.js";

describe("desiredNetwork", () => {
  it("routes each remote endpoint to its peer's VXLAN MAC, and keeps local ones on the bridge", () => {
    const want = desiredNetwork(stateOfA());
    expect(want).toMatchObject({
      id: "n1",
      vni: 4097,
      dockerName: "shoal-n1",
      bridge: "shb4097",
      vxlan: "shv4097",
      subnet: "10.0.1.0/24",
      gateway: "10.0.1.1",
    });
    expect(want.remotes).toEqual([{ address: "10.0.1.3", mac: "02:5e:c0:00:02:0c" }]);
    expect(want.fdb).toEqual([{ mac: "02:5e:c0:00:02:0c", dst: "192.0.2.12" }]);
    expect(want.bridgeAddresses).toEqual(["10.0.1.100"]);
  });

  it("adds the peers' and the node's own addresses (ingress), without their prefixes", () => {
    const want = desiredNetwork(
      stateOfA({
        nodeAddress: "10.0.1.250/24",
        peers: [
          { nodeId: "B", dataPathAddr: "192.0.2.12", nodeAddress: "10.0.1.251/24" },
          { nodeId: "C", dataPathAddr: "192.0.2.13" },
        ],
        endpoints: [{ nodeId: "C", address: "10.0.1.9" }],
        services: [],
      }),
    );
    expect(want.remotes).toEqual([
      { address: "10.0.1.9", mac: "02:5e:c0:00:02:0d" },
      { address: "10.0.1.251", mac: "02:5e:c0:00:02:0c" },
    ]);
    expect(want.fdb.map((e) => e.dst)).toEqual(["192.0.2.12", "192.0.2.13"]);
    expect(want.bridgeAddresses).toEqual(["10.0.1.250"]);
  });

  it("takes the subnet's first address when the gateway is empty", () => {
    const want = desiredNetwork(
      stateOfA({ network: { id: "n1", vni: 4097, ipam: { configs: [{ subnet: "10.0.1.0/24" }] } } }),
    );
    expect(want.gateway).toBe("10.0.1.1");
  });

  it("names the field of a state it cannot build", () => {
    const bad = (partial: Parameters<typeof stateOfA>[0]): string => {
      try {
        desiredNetwork(stateOfA(partial));
        return "built";
      } catch (err: unknown) {
        expect(err).toBeInstanceOf(InvalidNetworkStateError);
        return (err as Error).message;
      }
    };
    expect(bad({ network: { id: "n1", vni: 4097 } })).toContain("network.ipam.configs[0].subnet");
    expect(bad({ network: { id: "n1", vni: 0, ipam: { configs: [{ subnet: "10.0.1.0/24" }] } } })).toContain(
      "network.vni",
    );
    expect(bad({ peers: [{ nodeId: "B", dataPathAddr: "nowhere" }] })).toContain("peers[0].data_path_addr");
  });
});
