// Renews a node's certificate by itself, before it expires, without dropping connections.
//
// The renewer sleeps until a random point between 50% and 80% of the certificate's validity
// (renewalDelayMs: nodes joined together do not renew together), or until renewNow() (the node's
// role changed, or a root rotation asks every node to renew). It then makes a new key and request,
// asks the CA over mutual TLS with its current certificate (no token), checks the answer, saves
// it (the files first, so that a crash after the swap still restarts with the new one), and
// swaps it into the TlsMaterial that servers and channels use: open connections and streams go
// on, new ones use the new certificate. A failure is retried with backoff and jitter.
//
// Long sleeps are cut into steps of at most MAX_SLEEP_MS and the delay is recomputed after each:
// a 90-day certificate renews after 45 days or more, beyond what a Node timer can wait (24.8
// days), and a host that was suspended wakes up to the right answer.
import { Backoff, type BackoffOptions } from "../async/backoff.js";
import { systemClock, type Clock } from "../async/clock.js";
import { errorMessage } from "../errors.js";
import { NodeRole } from "../gen/shoal/v1/types.js";
import type { CertIdentity } from "../pki/identity.js";
import { createKeyAndCsr } from "../pki/csr.js";
import { renewalDelayMs } from "../pki/lifetime.js";
import type { JoinRole } from "../pki/join-token.js";
import type { Logger } from "../logging.js";
import { checkIssued } from "./join.js";
import type { CertificateIssuer } from "./node-ca-client.js";
import type { TlsFiles, TlsMaterial } from "./tls-material.js";

/** The longest single sleep; the delay is recomputed after it. */
export const MAX_SLEEP_MS = 60 * 60 * 1000;

/**
 * The shortest time between two scheduled renewals. A certificate that is due as soon as it is
 * issued (the CA's clock ahead of ours, or times cut to whole seconds within the same second)
 * would otherwise be renewed again at once, over and over, hammering the CA.
 */
export const MIN_RENEWAL_INTERVAL_MS = 10_000;

export interface RenewerOptions {
  readonly material: TlsMaterial;
  /** Asks the CA; in production a NodeCaIssuer over mutual TLS with the same material. */
  readonly issue: CertificateIssuer;
  /** Writes the renewed files (e.g. writeCertFiles to DATA_DIR/certificates/) before the swap. */
  readonly save?: (files: TlsFiles) => Promise<void>;
  /** Told after each renewal, e.g. so that a node whose role changed can act on it. */
  readonly onRenewed?: (identity: CertIdentity) => void;
  readonly clock?: Clock;
  /** Uniform in [0, 1): where in the 50-80% window to renew. */
  readonly random?: () => number;
  /** Retries after a failed renewal; default 1 s growing to 5 min, 20% jitter. */
  readonly backoff?: BackoffOptions;
  readonly logger?: Logger;
}

export class CertificateRenewer {
  readonly #options: RenewerOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #logger: Logger | undefined;
  readonly #stopped = new AbortController();
  /** Aborted by renewNow() to cut the current sleep short. */
  #wake = new AbortController();
  #urgent = false;
  #renewals = 0;
  #failures = 0;
  /** The renewal point is drawn once per certificate (by serial), so that recomputing does not move it. */
  #drawnFor: string | undefined;
  #drawn = 0;

  constructor(options: RenewerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff({
      initialMs: 1_000,
      maxMs: 5 * 60_000,
      random: this.#random,
      ...options.backoff,
    });
    this.#logger = options.logger?.child({ component: "cert-renewer" });
  }

  /** Renewals done since start. */
  get renewals(): number {
    return this.#renewals;
  }

  /** Failed attempts since start. */
  get failures(): number {
    return this.#failures;
  }

  /** Renews until `signal` aborts or stop() is called; resolves then (it never rejects for a failed renewal). */
  async run(signal?: AbortSignal): Promise<void> {
    const stop = signal ? AbortSignal.any([signal, this.#stopped.signal]) : this.#stopped.signal;
    let renewedAt: number | undefined;
    while (!stop.aborted) {
      let delay = this.#urgent ? 0 : this.delayMs();
      if (!this.#urgent && renewedAt !== undefined) {
        delay = Math.max(delay, renewedAt + MIN_RENEWAL_INTERVAL_MS - this.#clock.now());
      }
      if (delay > 0) {
        await this.sleep(Math.min(delay, MAX_SLEEP_MS), stop);
        continue; // recompute: woken early, or a step of a long sleep
      }
      this.#urgent = false;
      try {
        await this.renewOnce(stop);
        renewedAt = this.#clock.now();
        this.#backoff.reset();
      } catch (err: unknown) {
        if (stop.aborted) break;
        this.#failures++;
        const retryMs = this.#backoff.next();
        this.#logger?.warn(
          { err: errorMessage(err), retryMs, notAfter: this.#options.material.identity.notAfter.toISOString() },
          "certificate renewal failed; retrying",
        );
        this.#urgent = true;
        await this.sleep(retryMs, stop);
      }
    }
  }

  /** Renews at once (role change, root rotation), then goes back to the usual schedule. */
  renewNow(): void {
    this.#urgent = true;
    this.#wake.abort();
  }

  /** Ends run(); idempotent. A renewal in flight is abandoned (the material is left as it was). */
  stop(): void {
    this.#stopped.abort();
  }

  /** Milliseconds until the current certificate should be renewed; 0 when due. */
  delayMs(): number {
    const { notBefore, notAfter } = this.#options.material.identity;
    const serial = this.#options.material.identity.serialNumber;
    if (this.#drawnFor !== serial) {
      this.#drawnFor = serial;
      this.#drawn = this.#random();
    }
    const drawn = this.#drawn;
    return renewalDelayMs({ notBefore, notAfter }, this.#clock.now(), () => drawn);
  }

  private async renewOnce(signal: AbortSignal): Promise<void> {
    const { material, issue, save, onRenewed } = this.#options;
    const current = material.identity;
    const { keyPem, csrPem } = await createKeyAndCsr();
    signal.throwIfAborted();
    const response = await issue({ csr: Buffer.from(csrPem), token: "", agentCertificate: false }, signal);
    signal.throwIfAborted();
    const certChainPem = Buffer.from(response.certificateChain).toString("utf8");
    const caPem = response.caCert.length > 0 ? Buffer.from(response.caCert).toString("utf8") : material.files.caPem;
    const role: JoinRole = response.role === NodeRole.MANAGER ? "manager" : "worker";
    // The new chain must reach a root this node trusts already; the roots sent along came over a
    // connection checked against those, so they are taken as the new trust.
    const identity = await checkIssued(certChainPem, keyPem, {
      roots: material.files.caPem,
      now: this.#clock.now(),
      role,
      nodeId: current.nodeId,
      clusterId: current.clusterId,
    });
    signal.throwIfAborted();
    const files: TlsFiles = { caPem, certChainPem, keyPem };
    if (save) await save(files);
    material.update(files);
    this.#renewals++;
    this.#logger?.info(
      {
        nodeId: identity.nodeId,
        role: identity.role,
        serial: identity.serialNumber,
        notAfter: identity.notAfter.toISOString(),
      },
      "certificate renewed",
    );
    onRenewed?.(identity);
  }

  private async sleep(ms: number, stop: AbortSignal): Promise<void> {
    if (this.#wake.signal.aborted) this.#wake = new AbortController();
    try {
      await this.#clock.sleep(ms, AbortSignal.any([stop, this.#wake.signal]));
    } catch {
      // woken by renewNow() or stopped: the loop looks at why
    }
  }
}
