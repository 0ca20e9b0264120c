// NetworkStates for the NAT tests: a network with a virtual-IP service, and ingress.
import {
  EndpointMode,
  PortProtocol,
  PublishMode,
  type NetworkEndpoint,
  type NetworkService,
  type NetworkState,
  type PortConfig,
} from "@shoal/shared";

export interface NetworkFixture {
  readonly id: string;
  readonly vni: number;
  readonly subnet: string;
  readonly ingress?: boolean;
  readonly nodeAddress?: string;
  readonly services?: NetworkService[];
  readonly endpoints?: NetworkEndpoint[];
}

export function networkState(f: NetworkFixture): NetworkState {
  return {
    network: {
      id: f.id,
      meta: undefined,
      spec: {
        annotations: { name: f.id, labels: {} },
        driverConfig: undefined,
        attachable: false,
        ingress: f.ingress ?? false,
        ipam: undefined,
      },
      ipam: { driver: undefined, configs: [{ subnet: f.subnet, gateway: "", range: "" }] },
      vni: f.vni,
    },
    nodeAddress: f.nodeAddress ?? "",
    peers: [],
    endpoints: f.endpoints ?? [],
    services: f.services ?? [],
  };
}

export function vipService(serviceId: string, virtualIp: string, ports: PortConfig[] = []): NetworkService {
  return { serviceId, name: serviceId, aliases: [], mode: EndpointMode.VIP, virtualIp, ports };
}

export function endpoint(serviceId: string, address: string, nodeId: string, ready = true): NetworkEndpoint {
  return { taskId: `${serviceId}-${address}`, serviceId, nodeId, address, ready };
}

export function ingressPort(publishedPort: number, targetPort: number, udp = false): PortConfig {
  return {
    name: "",
    protocol: udp ? PortProtocol.UDP : PortProtocol.TCP,
    targetPort,
    publishedPort,
    publishMode: PublishMode.INGRESS,
  };
}
