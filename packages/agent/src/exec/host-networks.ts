// The container runtime's side of the network data plane: the bridge network of each Shoal
// network on the host (made by the data plane), and the readiness of those networks that a task's
// container waits for before it is made.

/** A network of the data plane, as the runtime makes it. */
export interface BridgeNetworkSpec {
  /** The Shoal network's id (the runtime network carries it as a label). */
  readonly id: string;
  /** The runtime's network name (shoal-<id>). */
  readonly name: string;
  /** The Linux bridge's name (shb<vni>). */
  readonly bridge: string;
  /** CIDR. */
  readonly subnet: string;
  /** Without prefix. */
  readonly gateway: string;
  /** The containers' MTU (the VXLAN device's); 0: the runtime's default. */
  readonly mtu: number;
}

/** A network the data plane has set up on the host, as a task's container joins it. */
export interface ReadyNetwork {
  readonly id: string;
  /** The runtime's network name. */
  readonly name: string;
  /** Without prefix: the containers' DNS server. */
  readonly gateway: string;
}

/** The data plane as the executor sees it. */
export interface NetworkReadiness {
  /**
   * Resolves with each network once the data plane has set it up on the host (in the order of
   * `ids`); rejects when `signal` aborts first.
   */
  waitReady(ids: readonly string[], signal: AbortSignal): Promise<ReadyNetwork[]>;
}

/** The runtime's bridge networks, for the data plane. */
export interface HostNetworks {
  /** Makes the network, or finds the one made earlier (by its id label): an agent restart changes nothing. */
  ensure(spec: BridgeNetworkSpec, signal?: AbortSignal): Promise<void>;
  /** The ids of the Shoal networks the runtime has a network for. */
  list(signal?: AbortSignal): Promise<string[]>;
  /** Removes the network of `id`; false when containers are still attached (try again later). */
  remove(id: string, signal?: AbortSignal): Promise<boolean>;
  /** Set by the data plane that drives the host: tasks with networks wait on it. */
  setReadiness(readiness: NetworkReadiness | undefined): void;
}
