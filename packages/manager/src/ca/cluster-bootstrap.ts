// The founding manager, once it leads, stores the Cluster object: the id it chose, its root CA
// (with the admin client's entry, so that the admin certificate can be revoked by name), the join
// tokens that pin the CA and the certificate lifetime it was started with. Until that write
// succeeds, each leadership it gains tries again; any other manager finds nothing to do.
import {
  Cluster,
  componentLogger,
  durationFromMs,
  errorMessage,
  leafIdentity,
  type Logger,
  type RevokedCertificate,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { validateAddressPool } from "../controlapi/validate-network.js";
import type { ClusterCa } from "./cluster-init.js";

export interface ClusterBootstrapOptions {
  readonly store: MemoryStore;
  /** What this manager founded, if it did (known once its certificate is made). */
  readonly founding: { readonly clusterId: string; readonly founded: ClusterCa | undefined };
  /** Node certificate lifetime of the new cluster (its ca_config); default: NodeCA's. */
  readonly certExpiryMs?: number | undefined;
  /** The new cluster's address pools for networks' subnets (default 10.0.0.0/8) and their prefix (0: 24). */
  readonly addressPool?: { readonly pools: readonly string[]; readonly subnetSize: number } | undefined;
  readonly logger: Logger;
}

export class ClusterBootstrap {
  private readonly logger: Logger;
  private stored = false;

  constructor(private readonly options: ClusterBootstrapOptions) {
    this.logger = componentLogger(options.logger, "manager");
    if (options.addressPool) validateAddressPool(options.addressPool.pools, options.addressPool.subnetSize);
  }

  /** Called on gaining leadership: makes sure the founded cluster's object exists. */
  async ensure(): Promise<void> {
    const { store, founding, certExpiryMs, addressPool } = this.options;
    const ca = founding.founded;
    if (this.stored || !ca) return;
    const clusterId = founding.clusterId;
    try {
      await store.update((tx) => {
        if (tx.clusters.find().length > 0) return;
        tx.clusters.create(
          Cluster.fromPartial({
            id: clusterId,
            spec: {
              annotations: { name: "default" },
              ...(certExpiryMs !== undefined ? { caConfig: { nodeCertExpiry: durationFromMs(certExpiryMs) } } : {}),
            },
            rootJoinTokens: ca.joinTokens,
            defaultAddressPool: [...(addressPool?.pools ?? [])],
            subnetSize: addressPool?.subnetSize ?? 0,
            rootCa: { ...ca.rootCa, clients: [adminEntry(ca.admin.certChainPem)] },
          }),
        );
      });
      this.stored = true;
    } catch (err: unknown) {
      this.logger.debug({ err: errorMessage(err) }, "could not create the cluster object yet");
    }
  }
}

/** The admin client certificate's entry in root_ca.clients, so that it can be revoked by name. */
export function adminEntry(certChainPem: string): RevokedCertificate {
  const identity = leafIdentity(certChainPem);
  return { serialNumber: identity.serialNumber, name: identity.nodeId, notAfter: identity.notAfter };
}
