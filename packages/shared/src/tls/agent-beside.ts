// The certificate of an agent that runs beside a manager, as that manager's node: a manager is a
// node of the cluster, and the agent on its host runs the node's tasks under the manager's node id
// (as Swarm's one process per node does). The manager asks for it with its own certificate (a
// renewal call with agent_certificate set): the CA names the manager's node id and the role worker.
// The agent holds its own key and certificate and renews them itself; the manager renews its own.
// Promotion goes the other way: a worker's agent asks, with its own certificate, for that of the
// manager it starts beside it (managerBesideAgent).
import { createKeyAndCsr } from "../pki/csr.js";
import { writeCertFiles } from "./cert-files.js";
import { checkIssued } from "./join.js";
import { NodeCaIssuer } from "./node-ca-client.js";
import { TlsMaterial } from "./tls-material.js";

export interface AgentBesideOptions {
  /** Managers to ask, in order (a follower forwards to the leader). */
  readonly managers: readonly string[];
  /** The manager's own certificate: the caller, and the node the agent runs as. */
  readonly manager: TlsMaterial;
  /** Where to write the agent's ca.pem, cert.pem and key.pem; not written when absent. */
  readonly certDir?: string;
  readonly signal?: AbortSignal;
  /** Milliseconds since the epoch, to check the certificate received; default Date.now. */
  readonly now?: () => number;
}

/** Asks for the agent's certificate with the manager's; checks it, writes it (if asked) and returns it. */
export function agentBesideManager(options: AgentBesideOptions): Promise<TlsMaterial> {
  const { manager, ...rest } = options;
  return issueWithOwnCertificate({ ...rest, material: manager, agentCertificate: true, role: "worker" });
}

export interface ManagerCertificateOptions extends Omit<AgentBesideOptions, "manager"> {
  /** The agent's own certificate: the node the manager runs as. */
  readonly agent: TlsMaterial;
}

/**
 * The certificate of the manager a promoted node's agent starts beside it: asked for with the
 * agent's own certificate while the node's desired role is manager (the CA then issues the role
 * manager); a key of its own.
 */
export function managerBesideAgent(options: ManagerCertificateOptions): Promise<TlsMaterial> {
  const { agent, ...rest } = options;
  return issueWithOwnCertificate({ ...rest, material: agent, agentCertificate: false, role: "manager" });
}

interface IssueOptions extends Omit<AgentBesideOptions, "manager"> {
  readonly material: TlsMaterial;
  readonly agentCertificate: boolean;
  readonly role: "worker" | "manager";
}

async function issueWithOwnCertificate(options: IssueOptions): Promise<TlsMaterial> {
  const { keyPem, csrPem } = await createKeyAndCsr();
  const issuer = new NodeCaIssuer(options.material, () => options.managers);
  try {
    const response = await issuer.issue(
      { csr: Buffer.from(csrPem), token: "", agentCertificate: options.agentCertificate },
      options.signal ?? new AbortController().signal,
    );
    const certChainPem = Buffer.from(response.certificateChain).toString("utf8");
    const caPem = options.material.files.caPem;
    await checkIssued(certChainPem, keyPem, {
      roots: caPem,
      now: (options.now ?? Date.now)(),
      role: options.role,
      nodeId: options.material.identity.nodeId,
    });
    const files = { caPem, certChainPem, keyPem };
    if (options.certDir !== undefined) await writeCertFiles(options.certDir, files);
    return new TlsMaterial(files);
  } finally {
    issuer.close();
  }
}
