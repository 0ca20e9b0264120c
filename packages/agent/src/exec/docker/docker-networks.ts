// Docker's bridge networks of the data plane: one per Shoal network on the host, labelled with
// the network's id, its bridge named after the VNI, no masquerading (traffic between hosts is
// routed, not NATed). Tasks' containers join them (container-config-networks.ts).
import type Docker from "dockerode";
import type { BridgeNetworkSpec, HostNetworks, NetworkReadiness } from "../host-networks.js";
import { abortOption, classifyDockerError, isConflict, isNotFound, statusCodeOf } from "./docker-errors.js";

/** The label that ties a Docker network to its Shoal network. */
export const NETWORK_ID_LABEL = "com.shoal.network.id";

interface NetworkSummary {
  Id: string;
  Name: string;
  Labels?: Record<string, string> | null;
}

export class DockerHostNetworks implements HostNetworks {
  private current: NetworkReadiness | undefined;

  constructor(private readonly docker: Docker) {}

  /** The data plane driving the host, if any. */
  get readiness(): NetworkReadiness | undefined {
    return this.current;
  }

  setReadiness(readiness: NetworkReadiness | undefined): void {
    this.current = readiness;
  }

  async ensure(spec: BridgeNetworkSpec, signal?: AbortSignal): Promise<void> {
    if ((await this.find(spec.id, signal)).length > 0) return;
    try {
      await this.docker.createNetwork({
        Name: spec.name,
        Driver: "bridge",
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: spec.subnet, Gateway: spec.gateway }] },
        Options: {
          "com.docker.network.bridge.name": spec.bridge,
          "com.docker.network.bridge.enable_ip_masquerade": "false",
          ...(spec.mtu > 0 ? { "com.docker.network.driver.mtu": String(spec.mtu) } : {}),
        },
        Labels: { [NETWORK_ID_LABEL]: spec.id },
        ...abortOption(signal),
      });
    } catch (err: unknown) {
      // Made meanwhile by a pass that raced this one: fine when it is ours.
      if (isConflict(err) && (await this.find(spec.id, signal)).length > 0) return;
      throw classifyDockerError(err, `creating docker network ${spec.name}`);
    }
  }

  async list(signal?: AbortSignal): Promise<string[]> {
    const ids = (await this.summaries(signal)).map((n) => n.Labels?.[NETWORK_ID_LABEL] ?? "");
    return [...new Set(ids.filter((id) => id !== ""))];
  }

  async remove(id: string, signal?: AbortSignal): Promise<boolean> {
    for (const network of await this.find(id, signal)) {
      try {
        await this.docker.getNetwork(network.Id).remove(abortOption(signal));
      } catch (err: unknown) {
        if (isNotFound(err)) continue;
        // Docker refuses while containers are attached ("has active endpoints").
        if (statusCodeOf(err) === 403 || isConflict(err)) return false;
        throw classifyDockerError(err, `removing docker network ${network.Name}`);
      }
    }
    return true;
  }

  private async find(id: string, signal?: AbortSignal): Promise<NetworkSummary[]> {
    return this.summaries(signal, `${NETWORK_ID_LABEL}=${id}`);
  }

  private async summaries(signal?: AbortSignal, label: string = NETWORK_ID_LABEL): Promise<NetworkSummary[]> {
    try {
      const list = (await this.docker.listNetworks({
        filters: { label: [label] },
        ...abortOption(signal),
      })) as NetworkSummary[];
      return list;
    } catch (err: unknown) {
      throw classifyDockerError(err, "listing docker networks");
    }
  }
}
