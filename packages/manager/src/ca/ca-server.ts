// NodeCA on every manager: the roots to anyone, certificates to joining nodes (join token) and to
// nodes renewing (their certificate). Signing runs on the leader, whose store is current: a
// follower that knows the leader forwards IssueNodeCertificate to it on behalf of the caller
// (node-ca-forwarder.ts), so that a node given any manager's address can join; a follower that
// knows no leader, or receives a call already forwarded once, answers NOT_LEADER and the node
// tries the next manager (joinCluster and NodeCaIssuer do).
//
// The CA decides the names, never the request: at join, a new node id and the token's role; at
// renewal, the caller's node id (from its verified certificate) and the role the store wants the
// node to have (spec.desired_role), so promotion and demotion travel by renewal. A node that is
// no longer in the store (removed) cannot renew.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  InvalidArgumentError,
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  ShoalError,
  UnavailableError,
  newId,
  pki,
  systemClock,
  toServiceError,
  type Clock,
  type Cluster,
  type GetRootCACertificateResponse,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
  type Logger,
  type NodeCAServer,
  type NodeCertificate,
  type RaftMember,
  type RootCA,
} from "@shoal/shared";
import { callerOf, isForwarded } from "../auth/caller.js";
import { NotLeaderError } from "../state/raft/raft-node.js";
import type { MemoryStore } from "../state/store/index.js";
import { managerOnly, newManagerNode } from "../nodes/manager-node.js";
import { recordIssued, recordManagerIssued } from "./issued-record.js";
import { currentDigest, RootCaCache, trustedRootsPem, type RootCaOf } from "./root-ca.js";
import { SigningQueue } from "./signing-queue.js";

export interface NodeCaServerOptions {
  readonly store: MemoryStore;
  readonly rootCaOf: RootCaOf;
  readonly isLeader: () => boolean;
  /** Where a follower forwards IssueNodeCertificate, and for the NOT_LEADER answer. */
  readonly leaderAddr?: () => string | undefined;
  /**
   * On a follower: IssueNodeCertificate sent to the leader at `leaderAddr` for `caller`
   * (NodeCaForwarder.issue). Without it a follower answers NOT_LEADER.
   */
  readonly forwardToLeader?: (
    leaderAddr: string,
    request: IssueNodeCertificateRequest,
    caller: pki.CertIdentity | undefined,
    signal?: AbortSignal,
  ) => Promise<IssueNodeCertificateResponse>;
  /** Node certificate lifetime for this cluster (ClusterSpec.ca_config once it exists); default 90 days. */
  readonly certLifetimeMs?: (cluster: Cluster) => number | undefined;
  /**
   * Whether a manager is in the Raft group: a member renews as a manager even before the leader
   * has made its node (the founding manager), and the agent beside it stays a worker.
   */
  readonly isRaftMember?: (nodeId: string) => boolean;
  /** The Raft member of a manager's node id (to make the node of a manager that has none yet). */
  readonly raftMember?: (nodeId: string) => RaftMember | undefined;
  /** Names (host names, IPs) a manager's certificate carries besides swarm-manager (the Docker API's clients check them). */
  readonly managerHosts?: (nodeId: string) => readonly string[];
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly cache?: RootCaCache;
}

/** How an IssueNodeCertificate call came in. */
export interface IncomingCall {
  /** Forwarded by another manager (isForwarded): not forwarded again. */
  readonly forwarded?: boolean;
  /** Aborts when the caller cancels. */
  readonly signal?: AbortSignal;
  /** When the caller stops waiting (ms since the epoch), if it said. */
  readonly deadline?: number;
}

export class NodeCaServer {
  readonly #options: NodeCaServerOptions;
  readonly #clock: Clock;
  readonly #cache: RootCaCache;
  readonly #logger: Logger | undefined;
  readonly #signing: SigningQueue;

  constructor(options: NodeCaServerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#cache = options.cache ?? new RootCaCache();
    this.#signing = new SigningQueue(() => this.#clock.now());
    this.#logger = options.logger?.child({ component: "node-ca" });
  }

  /** The handlers for server.addService(NodeCAService, ...); errors become statuses here. */
  handlers(): NodeCAServer {
    return {
      getRootCaCertificate: (_call, callback) => {
        try {
          callback(null, this.getRootCaCertificate());
        } catch (err: unknown) {
          callback(toServiceError(err));
        }
      },
      issueNodeCertificate: (
        call: grpc.ServerUnaryCall<IssueNodeCertificateRequest, IssueNodeCertificateResponse>,
        callback,
      ) => {
        const cancelled = new AbortController();
        call.once("cancelled", () => cancelled.abort());
        const deadline = call.getDeadline();
        const incoming = {
          forwarded: isForwarded(call.metadata),
          signal: cancelled.signal,
          ...(deadline instanceof Date ? { deadline: deadline.getTime() } : {}),
          ...(typeof deadline === "number" && Number.isFinite(deadline) ? { deadline } : {}),
        };
        this.issueNodeCertificate(call.request, callerOf(call.metadata), incoming).then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
      },
    };
  }

  /** Every root to trust now, from this manager's store (any manager answers). */
  getRootCaCertificate(): GetRootCACertificateResponse {
    const { rootCa } = this.current();
    return { caCert: Buffer.from(trustedRootsPem(rootCa)) };
  }

  /**
   * Joining (a token, no caller) or renewal (a worker or manager caller, no token). `caller` is
   * the identity the auth interceptor verified; never anything from the request. On a follower,
   * forwarded to the leader for that caller.
   */
  async issueNodeCertificate(
    request: IssueNodeCertificateRequest,
    caller: pki.CertIdentity | undefined,
    incoming: IncomingCall = {},
  ): Promise<IssueNodeCertificateResponse> {
    if (request.csr.length === 0) throw new InvalidArgumentError("is required", { field: "csr" });
    const { cluster, rootCa } = this.current();
    if (!this.#options.isLeader()) return this.toLeader(request, caller, incoming);
    const csrPem = Buffer.from(request.csr).toString("utf8");
    return request.token !== ""
      ? this.join(cluster, rootCa, csrPem, request.token, incoming)
      : this.renew(cluster, rootCa, csrPem, caller, request.agentCertificate, incoming);
  }

  /**
   * A follower's answer: the leader's, through the forwarder. Never for a call forwarded once
   * already (two managers with stale views of the leader must not bounce it between them), nor
   * with no leader known: NOT_LEADER then, and the node tries its next manager.
   */
  private toLeader(
    request: IssueNodeCertificateRequest,
    caller: pki.CertIdentity | undefined,
    incoming: IncomingCall,
  ): Promise<IssueNodeCertificateResponse> {
    const leader = this.#options.leaderAddr?.();
    const forward = this.#options.forwardToLeader;
    if (leader === undefined || leader === "" || !forward || incoming.forwarded === true) {
      throw new NotLeaderError(leader);
    }
    this.#logger?.debug({ leader, nodeId: caller?.nodeId }, "forwarding IssueNodeCertificate to the leader");
    return forward(leader, request, caller, incoming.signal);
  }

  private async join(
    cluster: Cluster,
    rootCa: RootCA,
    csrPem: string,
    token: string,
    incoming: IncomingCall,
  ): Promise<IssueNodeCertificateResponse> {
    const tokens = { worker: cluster.rootJoinTokens?.worker ?? "", manager: cluster.rootJoinTokens?.manager ?? "" };
    const role = pki.joinTokenRole(token, tokens, currentDigest(rootCa));
    const nodeId = newId();
    const { response, certificate } = await this.sign(cluster, rootCa, csrPem, nodeId, role, incoming);
    // Signed first: a failed signature leaves no node behind; a node that fails to be created
    // leaves a certificate that names no node, which the interceptor refuses. Nor is a node made
    // for a caller that has gone meanwhile (its deadline passed in a join storm): it will join
    // again, and the node would stay behind, never to hold a session.
    incoming.signal?.throwIfAborted();
    const storeRole = role === "manager" ? NodeRole.MANAGER : NodeRole.WORKER;
    await this.#options.store.update((tx) =>
      tx.nodes.create(
        Node.fromPartial({
          id: nodeId,
          role: storeRole,
          spec: { desiredRole: storeRole, availability: NodeAvailability.ACTIVE, annotations: { labels: {} } },
          status: { state: NodeState.UNKNOWN, message: "joined; no session yet", addr: "" },
          certificate,
        }),
      ),
    );
    this.#logger?.info({ nodeId, role }, "node joined");
    return response;
  }

  private async renew(
    cluster: Cluster,
    rootCa: RootCA,
    csrPem: string,
    caller: pki.CertIdentity | undefined,
    forAgent: boolean,
    incoming: IncomingCall,
  ): Promise<IssueNodeCertificateResponse> {
    if (caller === undefined || caller.role === "client") {
      throw new ShoalError(
        ErrorCode.Unauthenticated,
        "renewing a certificate needs the node's own certificate; joining needs a join token",
      );
    }
    if (caller.clusterId !== cluster.id) {
      throw new ShoalError(ErrorCode.PermissionDenied, `the certificate is for cluster ${caller.clusterId}`);
    }
    const member = caller.role === "manager" && this.#options.isRaftMember?.(caller.nodeId) === true;
    let node = this.#options.store.view((tx) => tx.nodes.get(caller.nodeId));
    // A manager's node is made by the leader's manager-nodes component; the agent beside a manager
    // that has none yet (just founded) makes it now.
    if (!node && forAgent && member) node = await this.ensureManagerNode(caller.nodeId);
    if (
      forAgent &&
      (caller.role !== "manager" || !node || (node.spec?.desiredRole ?? node.role) !== NodeRole.MANAGER)
    ) {
      throw new ShoalError(
        ErrorCode.PermissionDenied,
        "only a manager asks, with its own certificate, for the certificate of the agent beside it",
      );
    }
    if (!node && member) {
      const { response, certificate } = await this.sign(cluster, rootCa, csrPem, caller.nodeId, "manager", incoming);
      await this.record(caller.nodeId, certificate, "manager");
      this.#logger?.info({ nodeId: caller.nodeId, role: "manager" }, "certificate renewed");
      return response;
    }
    if (!node) {
      throw new ShoalError(
        ErrorCode.Unauthenticated,
        `node ${caller.nodeId} has been removed from the cluster: it cannot renew; join again with a token`,
      );
    }
    // The agent beside a manager is always a worker; otherwise the role follows the node's.
    const role = forAgent
      ? "worker"
      : issuedRole(
          node,
          caller.role === "worker" ? "agent" : "manager",
          this.#options.isRaftMember?.(node.id) === true,
        );
    if (role === undefined) {
      throw new ShoalError(
        ErrorCode.FailedPrecondition,
        `node ${node.id} was demoted and its manager has left the Raft group: this manager has nothing to renew; stop it`,
      );
    }
    // Whose certificate it is, for the record: a manager certificate is the node's manager's (a
    // promoted node's agent asks for it for the manager it starts), a worker one its agent's.
    const holder: CertificateHolder = role === "manager" ? "manager" : "agent";
    const { response, certificate } = await this.sign(cluster, rootCa, csrPem, node.id, role, incoming);
    await this.record(node.id, certificate, holder);
    this.#logger?.info({ nodeId: node.id, role, was: caller.role, holder }, "certificate renewed");
    return response;
  }

  /**
   * Records (best effort) what was issued, so that a root rotation knows who still holds a
   * certificate from the old key: the agent's in Node.certificate, the manager's in the rotation
   * (renewed_managers), and in Node.certificate too while no agent runs as the node.
   */
  private async record(nodeId: string, certificate: NodeCertificate, holder: CertificateHolder): Promise<void> {
    const record = { nodeId, ...certificate };
    await this.#options.store
      .update((tx) => {
        const node = tx.nodes.get(nodeId);
        if (holder === "agent" || (node && managerOnly(node))) recordIssued(tx, record);
        if (holder === "manager") recordManagerIssued(tx, record);
      })
      .catch((err: unknown) => this.#logger?.warn({ nodeId, err }, "could not record the certificate"));
  }

  private async ensureManagerNode(nodeId: string): Promise<Node | undefined> {
    const member = this.#options.raftMember?.(nodeId);
    if (!member) return undefined;
    return this.#options.store.update((tx) => {
      const existing = tx.nodes.get(nodeId);
      if (existing) return existing;
      const node = newManagerNode(member);
      tx.nodes.create(node);
      return node;
    });
  }

  private async sign(
    cluster: Cluster,
    rootCa: RootCA,
    csrPem: string,
    nodeId: string,
    role: pki.JoinRole,
    incoming: IncomingCall,
  ): Promise<Signed> {
    const signer = await this.#cache.signer(rootCa);
    const lifetimeMs = this.#options.certLifetimeMs?.(cluster) ?? pki.DEFAULT_NODE_CERT_LIFETIME_MS;
    let issued: pki.IssuedCertificate;
    try {
      const hosts = role === "manager" ? this.#options.managerHosts?.(nodeId) : undefined;
      issued = await this.#signing.run(
        () =>
          signer.issue(csrPem, {
            nodeId,
            role,
            clusterId: cluster.id,
            now: this.#clock.now(),
            lifetimeMs,
            ...(hosts !== undefined ? { hosts } : {}),
          }),
        incoming,
      );
    } catch (err: unknown) {
      if (err instanceof pki.CertificateError && err.reason === "malformed") {
        throw new InvalidArgumentError(err.message, { field: "csr", cause: err });
      }
      throw err;
    }
    return {
      response: {
        nodeId,
        role: role === "manager" ? NodeRole.MANAGER : NodeRole.WORKER,
        certificateChain: Buffer.from(issued.certChainPem),
        caCert: Buffer.from(trustedRootsPem(rootCa)),
      },
      // From the signing itself: parsing the chain and the roots back cost more than the signature.
      certificate: {
        serialNumber: issued.serialNumber,
        issuerDigest: issued.issuerDigest,
        notAfter: issued.notAfter,
      },
    };
  }

  private current(): { cluster: Cluster; rootCa: RootCA } {
    const cluster = this.#options.store.view((tx) => tx.clusters.find()[0]);
    if (!cluster) throw new UnavailableError("the cluster is not initialized yet");
    const rootCa = this.#options.rootCaOf(cluster);
    if (!rootCa || rootCa.caCert.length === 0) {
      throw new ShoalError(ErrorCode.FailedPrecondition, "the cluster has no certificate authority yet");
    }
    return { cluster, rootCa };
  }
}

/** A signed certificate: the answer to the node, and what the store keeps of it. */
interface Signed {
  readonly response: IssueNodeCertificateResponse;
  readonly certificate: NodeCertificate;
}

/** Who holds a certificate of a node: its agent, or its manager. */
type CertificateHolder = "agent" | "manager";

/**
 * The role a renewal issues: the node's desired role (so a promotion travels by renewal), but the
 * worker role to the agent of a node whose manager already runs (a member of the Raft group): that
 * agent keeps running tasks beside it. A manager stays one while it is a member (a demoted one
 * until the leader has removed it); once a demoted manager has left, it has nothing to renew
 * (undefined): its node goes on as a worker with its agent.
 */
export function issuedRole(node: Node, holder: CertificateHolder, raftMember: boolean): pki.JoinRole | undefined {
  const desired = node.spec?.desiredRole ?? node.role;
  if (holder === "manager" && raftMember) return "manager";
  if (desired !== NodeRole.MANAGER) return holder === "manager" ? undefined : "worker";
  return holder === "agent" && raftMember ? "worker" : "manager";
}
