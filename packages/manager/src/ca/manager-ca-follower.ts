// What every manager (leader or not) does about a root rotation, from its own replica of the store:
//
// - renews its own certificate when the rotation asks (its certificate is not from the new key
//   yet) and when the root changes (the rotation ended: the new root alone is then trusted);
//   once at start too, if it trusts more than the current root (it was down when a rotation
//   ended);
// - when a rotation starts, rewrites the admin client certificate in DATA_DIR/client/ (the
//   founding manager's; `shoal up` points the CLI at it) with one from the new key, so that the
//   operator's CLI keeps working when the old root stops being trusted. The new serial is
//   recorded for revocation by the leader; a follower's write is refused, which is logged.
import { join } from "node:path";
import { errorMessage, leafIdentity, pki, readCertFiles, RootCA, type Logger } from "@shoal/shared";
import { caSignal, watchCaSignal, type CaSignal } from "../dispatcher/ca-signal.js";
import type { MemoryStore } from "../state/store/index.js";
import { ADMIN_CLIENT_NAME, CLIENT_CERT_DIR, writeClientCertificate } from "./cluster-init.js";
import { RootCaCache, trustedRootsPem } from "./root-ca.js";
import { isRotating, signingDigest } from "./root-rotation.js";

export interface ManagerCaFollowerOptions {
  readonly store: MemoryStore;
  readonly nodeId: string;
  readonly dataDir: string;
  /** Asks the renewer to renew now (CertificateRenewer.renewNow). */
  readonly renewNow: () => void;
  /** The roots this manager trusts now (PEM). */
  readonly trustedRootsPem: () => string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly cache?: RootCaCache;
}

export class ManagerCaFollower {
  readonly #options: ManagerCaFollowerOptions;
  readonly #logger: Logger;
  readonly #cache: RootCaCache;
  #stopWatch: (() => void) | undefined;
  #adminFor = "";

  constructor(options: ManagerCaFollowerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "ca/follower" });
    this.#cache = options.cache ?? new RootCaCache();
  }

  start(): void {
    if (this.#stopWatch) return;
    const { store, nodeId } = this.#options;
    const { rootCa, node } = store.view((tx) => ({
      rootCa: tx.clusters.find()[0]?.rootCa,
      node: tx.nodes.get(nodeId),
    }));
    const initial = caSignal(rootCa, node, nodeId);
    let last = initial;
    if (initial.rootCaDigest !== "") {
      const trusted = bundleDigests(this.#options.trustedRootsPem());
      if (initial.renewCertificate || trusted.length !== 1 || trusted[0] !== initial.rootCaDigest) this.renew(initial);
    }
    if (rootCa && isRotating(rootCa)) void this.refreshAdmin(rootCa);
    this.#stopWatch = watchCaSignal(store, nodeId, initial, (signal) => {
      if (signal.renewCertificate || signal.rootCaDigest !== last.rootCaDigest) this.renew(signal);
      last = signal;
      const current = store.view((tx) => tx.clusters.find()[0]?.rootCa);
      if (current && isRotating(current)) void this.refreshAdmin(current);
    });
  }

  /** Idempotent. */
  stop(): void {
    this.#stopWatch?.();
    this.#stopWatch = undefined;
  }

  private renew(signal: CaSignal): void {
    this.#logger.info(signal, "renewing this manager's certificate for the root CA");
    this.#options.renewNow();
  }

  /** Once per rotation: the admin client certificate from the new key, if this data dir has one. */
  private async refreshAdmin(rootCa: RootCA): Promise<void> {
    const digest = signingDigest(rootCa);
    if (this.#adminFor === digest) return;
    this.#adminFor = digest;
    const dir = join(this.#options.dataDir, CLIENT_CERT_DIR);
    try {
      const existing = await readCertFiles(dir);
      if (!existing) return;
      const cluster = this.#options.store.view((tx) => tx.clusters.find()[0]);
      if (!cluster) return;
      const name = leafIdentity(existing.certChainPem).nodeId || ADMIN_CLIENT_NAME;
      const signer = await this.#cache.signer(rootCa);
      const written = await writeClientCertificate(dir, signer, {
        name,
        clusterId: cluster.id,
        now: this.#options.now?.() ?? Date.now(),
        rootsPem: trustedRootsPem(rootCa),
      });
      this.#logger.info({ dir, name, digest }, "admin client certificate renewed from the new root");
      const identity = leafIdentity(written.certChainPem);
      await this.#options.store
        .update((tx) => {
          const c = tx.clusters.get(cluster.id);
          if (!c?.rootCa) return;
          const entry = { serialNumber: identity.serialNumber, name, notAfter: identity.notAfter };
          tx.clusters.update({
            ...c,
            rootCa: RootCA.fromPartial({ ...c.rootCa, clients: [...c.rootCa.clients, entry] }),
          });
        })
        .catch((err: unknown) =>
          this.#logger.debug({ err: errorMessage(err) }, "admin certificate not recorded (not the leader)"),
        );
    } catch (err: unknown) {
      this.#adminFor = "";
      this.#logger.warn({ dir, err: errorMessage(err) }, "could not renew the admin client certificate");
    }
  }
}

/** The digests of the certificates of a PEM bundle, sorted. */
export function bundleDigests(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => pki.caDigest(b)).sort();
}
