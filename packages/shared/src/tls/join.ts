// A node joining the cluster: from a join token to its own certificate, trusting nothing it has
// not checked against the token.
//
// 1. Over TLS that trusts any server, ask a manager for its roots (GetRootCACertificate) and check
//    the first (the current root) against the digest the token pins. A mismatch (another cluster,
//    or someone in between) stops here: the token and the request have not been sent.
// 2. Make a key (it never leaves the node) and a certificate request.
// 3. Over TLS that trusts only those roots and checks the name swarm-manager, send the token and
//    the request (IssueNodeCertificate). The CA assigns the node id and takes the role from the
//    token.
// 4. Check the certificate received: it chains to the checked roots, is for this key, names a node
//    of the role the CA announced. Write the files, if asked, and return the material.
import { NodeCAClient } from "../gen/shoal/v1/ca.js";
import { bootstrapCredentials, MANAGER_CHANNEL_OPTIONS, pinnedCredentials } from "./credentials.js";
import { getRootCa, isRetryable, issueNodeCertificate, NODE_CA_CALL_TIMEOUT_MS } from "./node-ca-client.js";
import { writeCertFiles } from "./cert-files.js";
import { TlsMaterial, type TlsFiles } from "./tls-material.js";
import { createKeyAndCsr } from "../pki/csr.js";
import { CertificateError } from "../pki/errors.js";
import { parseJoinToken, verifyCaAgainstToken, type JoinRole } from "../pki/join-token.js";
import { importPrivateKeyPem, sameKey } from "../pki/keys.js";
import { verifyCertificateChain } from "../pki/verify.js";
import { pemBlocks, x509 } from "../pki/x509.js";
import type { CertIdentity } from "../pki/identity.js";
import { ErrorCode, ShoalError, errorMessage, leaderHint } from "../errors.js";
import { NodeRole } from "../gen/shoal/v1/types.js";
import type { Logger } from "../logging.js";

export interface JoinOptions {
  /**
   * Managers to try, "host:port", in order; any one will do (a follower forwards to the leader).
   * The next is tried when one is down or knows no leader.
   */
  readonly managers: readonly string[];
  readonly token: string;
  /** Where to write ca.pem, cert.pem and key.pem (0600); not written when absent. */
  readonly certDir?: string;
  readonly signal?: AbortSignal;
  /** Milliseconds since the epoch, to check the certificate received; default Date.now. */
  readonly now?: () => number;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface JoinResult {
  readonly nodeId: string;
  readonly role: JoinRole;
  readonly identity: CertIdentity;
  readonly material: TlsMaterial;
  /** The manager that answered (HOST:PORT): one of the managers given, or the leader one named. */
  readonly manager: string;
}

/**
 * Joins through the first manager that answers; see the steps above. A manager that refuses for
 * not being the leader and names the leader ("not the leader; the leader is HOST:PORT") sends the
 * join there next, once per call: a follower that knows the leader forwards the request itself,
 * so this is for a follower whose view is stale (the leader it forwarded to had lost its place).
 */
export async function joinCluster(options: JoinOptions): Promise<JoinResult> {
  parseJoinToken(options.token); // a malformed token fails before any connection
  if (options.managers.length === 0) throw new ShoalError(ErrorCode.InvalidArgument, "no manager address to join");
  const logger = options.logger?.child({ component: "join" });
  const queue = [...options.managers];
  const failures = new Map<string, unknown>();
  for (let addr = queue.shift(); addr !== undefined; addr = queue.shift()) {
    options.signal?.throwIfAborted();
    try {
      const files = await joinThrough(addr, options);
      if (options.certDir !== undefined) await writeCertFiles(options.certDir, files);
      const material = new TlsMaterial(files);
      const { identity } = material;
      logger?.info({ manager: addr, nodeId: identity.nodeId, role: identity.role }, "joined the cluster");
      return { nodeId: identity.nodeId, role: identity.role as JoinRole, identity, material, manager: addr };
    } catch (err: unknown) {
      if (!isRetryable(err)) throw err;
      failures.set(addr, err);
      const leader = leaderHint(err);
      if (leader !== undefined && !failures.has(leader)) {
        logger?.info({ manager: addr, leader }, "not the leader; joining through the leader it names");
        queue.splice(0, queue.length, leader, ...queue.filter((a) => a !== leader));
        continue;
      }
      logger?.warn({ manager: addr, err: errorMessage(err) }, "manager unavailable to join through; trying the next");
    }
  }
  const last = [...failures.values()].at(-1);
  const tried = [...failures].map(([addr, err]) => `${addr}: ${errorMessage(err)}`).join("; ");
  throw new ShoalError(ErrorCode.Unavailable, `no manager could sign a certificate (${tried})`, { cause: last });
}

async function joinThrough(addr: string, options: JoinOptions): Promise<TlsFiles> {
  const callOptions = { signal: options.signal, timeoutMs: options.timeoutMs ?? NODE_CA_CALL_TIMEOUT_MS };
  const bootstrap = new NodeCAClient(addr, bootstrapCredentials(), MANAGER_CHANNEL_OPTIONS);
  let caPem: string;
  try {
    caPem = Buffer.from((await getRootCa(bootstrap, callOptions)).caCert).toString("utf8");
  } finally {
    bootstrap.close();
  }
  verifyCaAgainstToken(caPem, options.token);

  const { keyPem, csrPem } = await createKeyAndCsr();
  const pinned = new NodeCAClient(addr, pinnedCredentials(caPem), MANAGER_CHANNEL_OPTIONS);
  try {
    const response = await issueNodeCertificate(
      pinned,
      { csr: Buffer.from(csrPem), token: options.token, agentCertificate: false },
      callOptions,
    );
    const certChainPem = Buffer.from(response.certificateChain).toString("utf8");
    const role: JoinRole = response.role === NodeRole.MANAGER ? "manager" : "worker";
    await checkIssued(certChainPem, keyPem, {
      roots: caPem,
      now: (options.now ?? Date.now)(),
      role,
      nodeId: response.nodeId,
    });
    // The roots to keep are the ones just checked against the token; during a rotation the CA
    // also names the new root, which arrives later by renewal.
    return { caPem, certChainPem, keyPem };
  } finally {
    pinned.close();
  }
}

export interface CheckIssuedOptions {
  /** Roots the chain must reach. */
  readonly roots: string;
  readonly now: number;
  readonly role: JoinRole;
  /** The node id the certificate must name. */
  readonly nodeId: string;
  readonly clusterId?: string;
}

/**
 * Checks a certificate the CA sent before the node uses it: it chains to `roots`, names `nodeId`
 * with `role`, and is for `keyPem`. Throws CertificateError.
 */
export async function checkIssued(
  certChainPem: string,
  keyPem: string,
  options: CheckIssuedOptions,
): Promise<CertIdentity> {
  const identity = await verifyCertificateChain(certChainPem, {
    roots: [options.roots],
    now: options.now,
    roles: [options.role],
    ...(options.clusterId !== undefined ? { clusterId: options.clusterId } : {}),
  });
  if (identity.nodeId !== options.nodeId) {
    throw new CertificateError(
      "untrusted",
      `the CA named node ${options.nodeId} but the certificate names ${identity.nodeId}`,
    );
  }
  const leaf = pemBlocks(certChainPem, "CERTIFICATE")[0]!;
  if (!(await sameKey(new x509.X509Certificate(leaf).publicKey, await importPrivateKeyPem(keyPem)))) {
    throw new CertificateError("key-mismatch", "the certificate received is not for the key this node sent");
  }
  return identity;
}
