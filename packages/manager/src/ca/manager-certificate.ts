// A manager's own certificate at start-up, in one of three ways:
// - founding a cluster (empty data dir, no --join): a new root CA, this manager's certificate and
//   the admin client's (initClusterCa); the caller stores the CA and tokens in the cluster object;
// - joining (empty data dir, --join): the manager token and a certificate request to NodeCA
//   (joinCluster), which names the node id; or, when DATA_DIR/certificates/ holds a manager
//   certificate already (`shoal join` got it with the token, or an earlier start got it and stopped
//   before it was a Raft member), that one: joining again would leave its node behind;
// - restarting: the files in DATA_DIR/certificates/.
// And the renewer that keeps it current while the manager runs.
import { join } from "node:path";
import {
  ErrorCode,
  ShoalError,
  TlsMaterial,
  joinWithRetry,
  readCertFiles,
  type Clock,
  type Logger,
} from "@shoal/shared";
import { initClusterCa, NODE_CERT_DIR, type ClusterCa } from "./cluster-init.js";

export interface ManagerCertificateOptions {
  readonly dataDir: string;
  /** The node id this data dir holds (used when founding). */
  readonly nodeId: string;
  /** The cluster id to found (used when founding). */
  readonly clusterId: string;
  /** Whether the data dir holds a cluster member already (raft id set). */
  readonly member: boolean;
  /** A manager of the cluster to join, with the manager token (empty data dir only). */
  readonly join?: { readonly addr: string; readonly token: string };
  /** Names (host names or IPs) for the founding manager's certificate besides swarm-manager. */
  readonly hosts: readonly string[];
  readonly nodeCertLifetimeMs?: number;
  /** The founding certificates' validity starts at its now(). */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export interface ManagerCertificate {
  readonly material: TlsMaterial;
  readonly nodeId: string;
  readonly clusterId: string;
  /** Set when this manager founded the cluster now: the CA and tokens to store. */
  readonly founded?: ClusterCa;
}

export function nodeCertDir(dataDir: string): string {
  return join(dataDir, NODE_CERT_DIR);
}

export async function managerCertificate(options: ManagerCertificateOptions): Promise<ManagerCertificate> {
  const dir = nodeCertDir(options.dataDir);
  if (options.member) {
    const files = await readCertFiles(dir);
    if (!files) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `${dir} holds no certificate (ca.pem, cert.pem, key.pem): this manager cannot talk to the cluster; ` +
          `start a new data dir with --join and a manager token`,
      );
    }
    const material = new TlsMaterial(files);
    return { material, nodeId: material.identity.nodeId, clusterId: material.identity.clusterId };
  }
  if (options.join === undefined) {
    const founded = await initClusterCa({
      clusterId: options.clusterId,
      nodeId: options.nodeId,
      dataDir: options.dataDir,
      now: options.clock.now(),
      hosts: options.hosts,
      ...(options.nodeCertLifetimeMs !== undefined ? { nodeCertLifetimeMs: options.nodeCertLifetimeMs } : {}),
    });
    return { material: founded.material, nodeId: options.nodeId, clusterId: options.clusterId, founded };
  }
  const issued = await readCertFiles(dir);
  if (issued) {
    const material = new TlsMaterial(issued);
    if (material.identity.role !== "manager") {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `${dir} holds a ${material.identity.role} certificate: a manager joins with a manager certificate ` +
          `(remove the folder and join with the manager token, shoal cluster join-token manager)`,
      );
    }
    options.logger.info({ nodeId: material.identity.nodeId }, "joining with the manager certificate in the data dir");
    return { material, nodeId: material.identity.nodeId, clusterId: material.identity.clusterId };
  }
  const joined = await joinWithRetry([options.join.addr], options.join.token, dir, options.logger, options.signal);
  if (joined.role !== "manager") {
    throw new ShoalError(
      ErrorCode.PermissionDenied,
      "the token given is the worker token: a manager joins with the manager token (shoal cluster join-token manager)",
    );
  }
  return { material: joined.material, nodeId: joined.nodeId, clusterId: joined.identity.clusterId };
}
