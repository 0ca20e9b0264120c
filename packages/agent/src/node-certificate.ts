// The agent's certificate: DATA_DIR/certificates/ from an earlier start, or, at the first start,
// joining the cluster with the worker token (joinCluster checks the managers' CA against the
// token's digest before it sends anything). The certificate names the node id the CA chose.
import { join } from "node:path";
import { ErrorCode, ShoalError, TlsMaterial, joinWithRetry, readCertFiles, type Logger } from "@shoal/shared";

/** DATA_DIR/certificates/: ca.pem, cert.pem, key.pem. */
export function agentCertDir(dataDir: string): string {
  return join(dataDir, "certificates");
}

export interface AgentCertificateOptions {
  readonly dataDir: string;
  readonly managers: readonly string[];
  /** The worker join token; needed at the first start only. */
  readonly token?: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function agentCertificate(options: AgentCertificateOptions): Promise<TlsMaterial> {
  const dir = agentCertDir(options.dataDir);
  const files = await readCertFiles(dir);
  if (files) return new TlsMaterial(files);
  if (options.token === undefined || options.token === "") {
    throw new ShoalError(
      ErrorCode.FailedPrecondition,
      `this agent has no certificate in ${dir} yet: give the cluster's worker join token with --token ` +
        `(shoal cluster join-token worker)`,
    );
  }
  const joined = await joinWithRetry(options.managers, options.token, dir, options.logger, options.signal);
  return joined.material;
}
