// What a node (agent or joining manager) needs around joinCluster and CertificateRenewer: joining
// retried while no manager can sign yet, and a renewer wired to its files and managers.
import { Backoff } from "../async/backoff.js";
import { ErrorCode, ShoalError, errorMessage } from "../errors.js";
import type { Logger } from "../logging.js";
import { writeCertFiles } from "./cert-files.js";
import { joinCluster, type JoinResult } from "./join.js";
import { isRetryable, NodeCaIssuer } from "./node-ca-client.js";
import { CertificateRenewer } from "./renewer.js";
import type { TlsMaterial } from "./tls-material.js";

/**
 * joinCluster, retried while no manager can sign (down, starting, electing): for up to
 * `timeoutMs`. A refusal (wrong or rotated token, another CA) fails at once.
 */
export async function joinWithRetry(
  managers: readonly string[],
  token: string,
  certDir: string | undefined,
  logger: Logger,
  signal?: AbortSignal,
  timeoutMs = 60_000,
): Promise<JoinResult> {
  const backoff = new Backoff({ initialMs: 200, maxMs: 2000 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await joinCluster({
        managers,
        token,
        logger,
        ...(certDir !== undefined ? { certDir } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err: unknown) {
      const retryable = isRetryable(err) || (err instanceof ShoalError && err.code === ErrorCode.FailedPrecondition);
      if (!retryable || Date.now() > deadline) throw err;
      logger.info({ err: errorMessage(err) }, "cannot join yet; trying again");
      await new Promise((r) => setTimeout(r, backoff.next()));
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
