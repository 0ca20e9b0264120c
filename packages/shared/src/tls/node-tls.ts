// What a node (agent or joining manager) needs around joinCluster and CertificateRenewer: joining
// retried while no manager can sign yet, and a renewer wired to its files and managers.
import { Backoff } from "../async/backoff.js";
import { systemClock } from "../async/clock.js";
import { ErrorCode, ShoalError, errorMessage } from "../errors.js";
import type { Logger } from "../logging.js";
import { writeCertFiles } from "./cert-files.js";
import { joinCluster, type JoinResult } from "./join.js";
import { isRetryable, NodeCaIssuer, NODE_CA_CALL_TIMEOUT_MS } from "./node-ca-client.js";
import { CertificateRenewer } from "./renewer.js";
import type { TlsMaterial } from "./tls-material.js";

/**
 * joinCluster, retried while no manager can sign (down, starting, electing): for up to
 * `timeoutMs`. A refusal (wrong or rotated token, another CA) fails at once.
 */
export function joinWithRetry(
  managers: readonly string[],
  token: string,
  certDir: string | undefined,
  logger: Logger,
  signal?: AbortSignal,
  timeoutMs = 60_000,
): Promise<JoinResult> {
  return retryWhileElecting(
    `join the cluster through ${managers.join(",")}`,
    (remainingMs) =>
      joinCluster({
        managers,
        token,
        logger,
        timeoutMs: Math.min(NODE_CA_CALL_TIMEOUT_MS, remainingMs),
        ...(certDir !== undefined ? { certDir } : {}),
        ...(signal ? { signal } : {}),
      }),
    { timeoutMs, logger, ...(signal ? { signal } : {}) },
  );
}

export interface RetryOptions {
  /** How long to keep trying, in all. */
  readonly timeoutMs: number;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Runs `attempt` (given the time left) until it succeeds, and again, with backoff, while it fails
 * in a way that passes once the managers have a leader: a manager down or starting, no leader
 * known, a leader just lost (isRetryable), or a cluster with no CA yet (FAILED_PRECONDITION). Any
 * other error fails at once. After `timeoutMs`, fails saying what it tried to do, how many times
 * and for how long, and the last answer.
 */
export async function retryWhileElecting<T>(
  what: string,
  attempt: (remainingMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const backoff = new Backoff({ initialMs: 200, maxMs: 2000 });
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  for (let tries = 1; ; tries++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(Math.max(1, deadline - Date.now()));
    } catch (err: unknown) {
      const retryable = isRetryable(err) || (err instanceof ShoalError && err.code === ErrorCode.FailedPrecondition);
      if (!retryable) throw err;
      const delay = backoff.next();
      if (Date.now() + delay >= deadline) {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        throw new ShoalError(
          ErrorCode.Unavailable,
          `could not ${what}: ${tries} ${tries === 1 ? "try" : "tries"} in ${seconds} s, the last: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      options.logger?.info({ err: errorMessage(err), retryInMs: delay }, `cannot ${what} yet; trying again`);
      await systemClock.sleep(delay, options.signal);
    }
  }
}

/** A renewer for a node's material, saving to `certDir`, asking the managers `addresses()` names. */
export function nodeRenewer(
  material: TlsMaterial,
  certDir: string,
  addresses: () => readonly string[],
  logger: Logger,
): { renewer: CertificateRenewer; close(): void } {
  const issuer = new NodeCaIssuer(material, addresses);
  const renewer = new CertificateRenewer({
    material,
    issue: issuer.issue,
    save: (files) => writeCertFiles(certDir, files),
    logger,
  });
  return { renewer, close: () => issuer.close() };
}
