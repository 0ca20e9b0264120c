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
//
// It runs on the shared ReconcileLoop: the cluster and this manager's node are watched, and a pass
// after each burst of their commits compares the node's CA signal with the last one it acted on.
import { join } from "node:path";
import {
  errorMessage,
  leafIdentity,
  pki,
  readCertFiles,
  RootCA,
  type Clock,
  type Logger,
  type Node,
} from "@shoal/shared";
import { caSignal, sameSignal, type CaSignal } from "../dispatcher/ca-signal.js";
import { ReconcileLoop } from "../reconcile/index.js";
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
  /** Times the loop's retries and the admin certificate's validity. */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cache?: RootCaCache;
}

export class ManagerCaFollower {
  readonly #options: ManagerCaFollowerOptions;
  readonly #logger: Logger;
  readonly #cache: RootCaCache;
  readonly #loop: ReconcileLoop;
  #started = false;
  /** The signal last acted on; undefined before the first pass (at start). */
  #last: CaSignal | undefined;
  /** The cluster or this node changed (or was read anew) since the last pass. */
  #dirty = false;
  #adminFor = "";

  constructor(options: ManagerCaFollowerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "ca/follower" });
    this.#cache = options.cache ?? new RootCaCache();
    const { nodeId } = options;
    this.#loop = new ReconcileLoop(
      {
        tables: ["clusters", "nodes"],
        kinds: ["create", "update"],
        peek: (table, object) => table === "clusters" || (object as Node).id === nodeId,
        reset: () => void (this.#dirty = true),
        observe: () => void (this.#dirty = true),
        hasWork: () => this.#dirty,
        pass: () => this.pass(),
      },
      { store: options.store, clock: options.clock, logger: this.#logger, capacity: 1_000 },
    );
  }

  /** Acts on the current signal at once, then follows it. Runs once; idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#loop.run().catch((err: unknown) => {
      this.#logger.error({ err: errorMessage(err) }, "CA follower stopped");
    });
  }

  /** Stops following; resolves once a pass under way has ended. Idempotent. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  private async pass(): Promise<void> {
    this.#dirty = false;
    const { store, nodeId } = this.#options;
    const rootCa = store.view((tx) => tx.clusters.find()[0]?.rootCa);
    // The manager's own certificate is recorded in the rotation (renewed_managers), whether or
    // not it has a node: its node's record is its agent's.
    const signal = caSignal(rootCa, undefined, nodeId);
    // No root yet (a founding manager's store before the cluster's first commit, a replica still
    // catching up): nothing to compare with, and the first root to appear is not a change of root.
    if (signal.rootCaDigest === "") return;
    const last = this.#last;
    this.#last = signal;
    if (last === undefined) {
      // At start: renew if the rotation asks, or if this manager trusts more than the current
      // root (it was down when a rotation ended).
      const trusted = bundleDigests(this.#options.trustedRootsPem());
      if (signal.renewCertificate || trusted.length !== 1 || trusted[0] !== signal.rootCaDigest) this.renew(signal);
    } else {
      if (sameSignal(signal, last)) return;
      if (signal.renewCertificate || signal.rootCaDigest !== last.rootCaDigest) this.renew(signal);
    }
    if (rootCa && isRotating(rootCa)) await this.refreshAdmin(rootCa);
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
        now: this.#options.clock.now(),
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
