import { NetworkState, type DeepPartial } from "@shoal/shared";

/** Network n1 (10.0.1.0/24, VNI 4097) as node A sees it: B (192.0.2.12) is its peer. */
export function stateOfA(more: DeepPartial<NetworkState> = {}): NetworkState {
  return NetworkState.fromPartial({
    network: { id: "n1", vni: 4097, ipam: { configs: [{ subnet: "10.0.1.0/24", gateway: "10.0.1.1" }] } },
    peers: [{ nodeId: "B", dataPathAddr: "192.0.2.12" }],
    endpoints: [
      { taskId: "ta", nodeId: "A", address: "10.0.1.2", ready: true },
      { taskId: "tb", nodeId: "B", address: "10.0.1.3", ready: true },
    ],
    services: [{ serviceId: "s", name: "web", virtualIp: "10.0.1.100" }],
    ...more,
  });
}
