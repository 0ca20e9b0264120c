// The certificate a daemon set up by `shoal init` or `shoal join` starts with. As `docker swarm
// join --token T ADDR` does, the token decides the role: the CLI runs the NodeCA bootstrap itself
// (joinCluster: the managers' CA checked against the digest the token pins, then a key made here
// and a certificate request sent with the token), and the CA signs a certificate naming the
// token's role. The files go into the daemon's DATA_DIR/certificates/, so it starts joined.
//
// A wrong or rotated token, or another cluster's, fails here, before any config file is written.
import { join } from "node:path";
import {
  ErrorCode,
  ShoalError,
  agentBesideManager,
  errorMessage,
  isShoalError,
  joinWithRetry,
  pki,
  silentLogger,
  writeCertFiles,
  type JoinResult,
  type TlsMaterial,
} from "@shoal/shared";
import { agentCertDir } from "@shoal/agent";
import { CLIENT_CERT_DIR, nodeCertDir } from "@shoal/manager";
import type { DaemonRole } from "./systemd-units.js";

/** DATA_ROOT/manager and DATA_ROOT/agent: the data dirs `shoal init` and `shoal join` set up. */
export function daemonDataDir(dataRoot: string, role: DaemonRole): string {
  return join(dataRoot, role);
}

/** Where a daemon set up under `dataRoot` keeps its own certificate. */
export function daemonCertDir(dataRoot: string, role: DaemonRole): string {
  const dataDir = daemonDataDir(dataRoot, role);
  return role === "manager" ? nodeCertDir(dataDir) : agentCertDir(dataDir);
}

/** The founding manager's admin client certificate (its DATA_DIR/client/): the CLI's --tls-dir. */
export function adminClientDir(dataRoot: string): string {
  return join(daemonDataDir(dataRoot, "manager"), CLIENT_CERT_DIR);
}

/**
 * Joins with `token` through the first of `managers` that answers; the certificate is not saved
 * yet. A manager that names the leader sends the join there; while the cluster has no leader (a
 * manager just lost, an election), or no manager answers, it asks again until `timeoutMs` has
 * passed, and then says what it tried.
 */
export async function joinWithToken(
  managers: readonly string[],
  token: string,
  timeoutMs: number,
): Promise<JoinResult> {
  try {
    return await joinWithRetry(managers, token, undefined, silentLogger(), undefined, timeoutMs);
  } catch (err: unknown) {
    if (isShoalError(err) && err.code === ErrorCode.InvalidArgument) throw err; // a malformed token
    if (err instanceof pki.JoinTokenError || (isShoalError(err) && err.code === ErrorCode.PermissionDenied)) {
      throw new ShoalError(
        ErrorCode.PermissionDenied,
        `the join token is not valid for the cluster at ${managers.join(",")} (${err.message}): ` +
          "print the current one on a manager with shoal cluster join-token worker|manager",
        { cause: err },
      );
    }
    throw new ShoalError(
      ErrorCode.Unavailable,
      `could not join the cluster at ${managers.join(",")}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

/** Writes a joined certificate into the daemon's certificate folder (0600 files in a 0700 folder). */
export async function saveDaemonCertificate(dataRoot: string, role: DaemonRole, joined: JoinResult): Promise<string> {
  const dir = daemonCertDir(dataRoot, role);
  await writeCertFiles(dir, joined.material.files);
  return dir;
}

/**
 * The certificate of the agent beside a manager: the manager's node (same node id, role worker),
 * asked for with the manager's certificate just issued or read (no token: managers are nodes).
 */
export async function agentBesideCertificate(
  managers: readonly string[],
  manager: TlsMaterial,
  timeoutMs: number,
): Promise<JoinResult> {
  try {
    const material = await agentBesideManager({ managers, manager, signal: AbortSignal.timeout(timeoutMs) });
    const { identity } = material;
    return { nodeId: identity.nodeId, role: "worker", identity, material, manager: managers[0] ?? "" };
  } catch (err: unknown) {
    throw new ShoalError(
      ErrorCode.Unavailable,
      `could not get the certificate of the agent beside the manager from ${managers.join(",")}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}
