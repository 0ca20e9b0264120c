// The agent's certificate: DATA_DIR/certificates/ from an earlier start, or, at the first start,
// joining the cluster with the worker token (joinCluster checks the managers' CA against the
// token's digest before it sends anything). The certificate names the node id the CA chose. An
// agent beside a manager (managerCertDir) runs as the manager's node instead: at its first start it
// asks for its certificate with the manager's (agentBesideManager), no token needed.
import { join } from "node:path";
import {
  ErrorCode,
  ShoalError,
  TlsMaterial,
  agentBesideManager,
  joinWithRetry,
  readCertFiles,
  type Logger,
} from "@shoal/shared";

/** DATA_DIR/certificates/: ca.pem, cert.pem, key.pem. */
export function agentCertDir(dataDir: string): string {
  return join(dataDir, "certificates");
}

export interface AgentCertificateOptions {
  readonly dataDir: string;
  readonly managers: readonly string[];
  /** The worker join token; needed at the first start only. */
  readonly token?: string;
  /** The certificates folder of the manager on this host: the agent runs as that manager's node. */
  readonly managerCertDir?: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function agentCertificate(options: AgentCertificateOptions): Promise<TlsMaterial> {
  const dir = agentCertDir(options.dataDir);
  const files = await readCertFiles(dir);
  if (files) return new TlsMaterial(files);
  if (options.managerCertDir !== undefined) {
    const manager = await readCertFiles(options.managerCertDir);
    if (!manager) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `the manager's certificate is not in ${options.managerCertDir} yet: start the manager first`,
      );
    }
    const material = new TlsMaterial(manager);
    const signal = options.signal;
    const agent = await agentBesideManager({
      managers: options.managers,
      manager: material,
      certDir: dir,
      ...(signal ? { signal } : {}),
    });
    options.logger.info({ nodeId: agent.identity.nodeId }, "runs as the node of the manager beside it");
    return agent;
  }
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
