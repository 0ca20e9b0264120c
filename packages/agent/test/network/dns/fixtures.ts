// NetworkStates for the DNS tests: a network with its gateway, endpoints and services.
import { EndpointMode, NetworkState } from "@shoal/shared";

export interface EndpointFixture {
  task: string;
  service: string;
  address: string;
  ready?: boolean;
  node?: string;
}

export interface ServiceFixture {
  id: string;
  name: string;
  aliases?: string[];
  dnsrr?: boolean;
  vip?: string;
}

export function networkState(
  id: string,
  gateway: string,
  services: ServiceFixture[],
  endpoints: EndpointFixture[],
  ingress = false,
): NetworkState {
  return NetworkState.fromPartial({
    network: { id, spec: { ingress }, ipam: { configs: [{ subnet: "", gateway }] }, vni: 4096 },
    endpoints: endpoints.map((e) => ({
      taskId: e.task,
      serviceId: e.service,
      nodeId: e.node ?? "node-1",
      address: e.address,
      ready: e.ready ?? true,
    })),
    services: services.map((s) => ({
      serviceId: s.id,
      name: s.name,
      aliases: s.aliases ?? [],
      mode: s.dnsrr === true ? EndpointMode.DNSRR : EndpointMode.VIP,
      virtualIp: s.vip ?? "",
    })),
  });
}
