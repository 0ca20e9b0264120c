// The networks the cluster makes itself (leader only): the ingress network (the routing mesh's,
// 10.255.0.0/16) when the cluster has none, and, once, the move of networks that earlier versions
// kept as cluster labels ("com.shoal.network/NAME" -> JSON, written by the Docker API) into the
// networks table: each keeps its id, name, labels and attachable flag and gets a subnet and VNI as
// CreateNetwork would give it (network-allocation.ts); the labels go in the same transaction.
// Looks again whenever the cluster object or a network changes; writes only when there is work.
import {
  componentLogger,
  errorMessage,
  newId,
  type Cluster,
  type Logger,
  type NetworkSpec,
  type Clock,
} from "@shoal/shared";
import { createNetworkIn } from "../controlapi/network-allocation.js";
import { validateNetworkSpec } from "../controlapi/validate-network.js";
import { ReconcileLoop } from "../reconcile/index.js";
import type { MemoryStore, ReadTx, WriteTx } from "../state/store/index.js";

/** The cluster label that kept network NAME in earlier versions is LEGACY_NETWORK_PREFIX + NAME. */
export const LEGACY_NETWORK_PREFIX = "com.shoal.network/";
export const INGRESS_NAME = "ingress";
export const INGRESS_SUBNET = "10.255.0.0/16";
export const INGRESS_GATEWAY = "10.255.0.1";

export const isLegacyNetworkLabel = (key: string): boolean => key.startsWith(LEGACY_NETWORK_PREFIX);

/** A network as earlier versions kept it in a cluster label. */
interface LegacyNetwork {
  readonly Id?: unknown;
  readonly Name?: unknown;
  readonly Attachable?: unknown;
  readonly Labels?: unknown;
}

export const INGRESS_SPEC: NetworkSpec = {
  annotations: { name: INGRESS_NAME, labels: {} },
  driverConfig: { name: "overlay", options: {} },
  attachable: false,
  ingress: true,
  ipam: {
    driver: { name: "default", options: {} },
    configs: [{ subnet: INGRESS_SUBNET, gateway: INGRESS_GATEWAY, range: "" }],
  },
};

/** The networks kept in `labels` (by earlier versions), as ids and specs; unreadable ones are skipped. */
export function legacyNetworks(labels: Readonly<Record<string, string>>): { id: string; spec: NetworkSpec }[] {
  const out: { id: string; spec: NetworkSpec }[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isLegacyNetworkLabel(key)) continue;
    let kept: LegacyNetwork;
    try {
      kept = JSON.parse(value) as LegacyNetwork;
    } catch {
      continue;
    }
    const name = typeof kept.Name === "string" ? kept.Name : key.slice(LEGACY_NETWORK_PREFIX.length);
    const labelsKept =
      kept.Labels !== null && typeof kept.Labels === "object" ? (kept.Labels as Record<string, string>) : {};
    out.push({
      id: typeof kept.Id === "string" && kept.Id !== "" ? kept.Id : newId(),
      spec: {
        annotations: { name, labels: { ...labelsKept } },
        driverConfig: { name: "overlay", options: {} },
        attachable: kept.Attachable === true,
        ingress: false,
        ipam: undefined,
      },
    });
  }
  return out.sort((a, b) => a.spec.annotations!.name.localeCompare(b.spec.annotations!.name));
}

function hasWork(tx: ReadTx): boolean {
  const cluster = tx.clusters.find()[0];
  if (!cluster) return false;
  const labels = cluster.spec?.annotations?.labels ?? {};
  return !tx.networks.find().some((n) => n.spec?.ingress) || Object.keys(labels).some(isLegacyNetworkLabel);
}

export interface NetworkBootstrapOptions {
  readonly store: MemoryStore;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class NetworkBootstrap {
  private readonly logger: Logger;
  private readonly loop: ReconcileLoop;
  private dirty = false;

  constructor(private readonly options: NetworkBootstrapOptions) {
    this.logger = componentLogger(options.logger, "network-bootstrap");
    this.loop = new ReconcileLoop(
      {
        tables: ["clusters", "networks"],
        reset: () => void (this.dirty = true),
        observe: () => void (this.dirty = true),
        hasWork: () => this.dirty,
        pass: () => this.pass(),
      },
      { store: options.store, clock: options.clock, logger: this.logger },
    );
  }

  run(signal?: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    this.dirty = false;
    const { store } = this.options;
    if (!store.view(hasWork)) return;
    await store.update((tx) => this.bootstrap(tx));
  }

  /** Moves the label networks into the table, then makes the ingress network if there is none. */
  private bootstrap(tx: WriteTx): void {
    const cluster = tx.clusters.find()[0];
    if (!cluster) return;
    const labels = cluster.spec?.annotations?.labels ?? {};
    const legacy = legacyNetworks(labels);
    if (Object.keys(labels).some(isLegacyNetworkLabel)) {
      for (const { id, spec } of legacy) this.tryCreate(tx, id, spec, "moved");
      tx.clusters.update(withoutLegacyLabels(cluster));
    }
    if (!tx.networks.find().some((n) => n.spec?.ingress)) {
      this.tryCreate(tx, newId(), INGRESS_SPEC, "made");
    }
  }

  /** Creates one network; one that cannot be made (its name taken, no subnet left) is logged and skipped. */
  private tryCreate(tx: WriteTx, id: string, spec: NetworkSpec, what: "moved" | "made"): void {
    const name = spec.annotations?.name ?? "";
    try {
      if (tx.networks.get(id) || tx.networks.find({ name }).length > 0) {
        throw new Error(`a network with its id or name ${name} exists`);
      }
      const network = createNetworkIn(tx, id, validateNetworkSpec(spec, { allowIngress: spec.ingress }));
      const done = what === "moved" ? "network moved from the cluster's labels" : "made the ingress network";
      this.logger.info({ network: name, id, subnet: network.ipam?.configs[0]?.subnet, vni: network.vni }, done);
    } catch (err: unknown) {
      this.logger.warn({ network: name, id, err: errorMessage(err) }, `network not ${what}`);
    }
  }
}

function withoutLegacyLabels(cluster: Cluster): Cluster {
  const labels = Object.fromEntries(
    Object.entries(cluster.spec?.annotations?.labels ?? {}).filter(([k]) => !isLegacyNetworkLabel(k)),
  );
  return {
    ...cluster,
    spec: { ...cluster.spec!, annotations: { name: cluster.spec?.annotations?.name ?? "default", labels } },
  };
}
