// A follower's NodeCA.IssueNodeCertificate goes to the leader, which alone signs (its store is
// current, and a join creates the node there), so that a node given any manager's address can
// join or renew, as with Docker Swarm. The call goes over mutual TLS with this manager's own
// certificate and names the original caller in shoal-forwarded-for (auth/caller.ts): anonymous
// for a join with a token, the identity the interceptor verified for a renewal. The leader's
// interceptor checks that caller as if it had called directly, so a forwarded call can do nothing
// the caller could not do at the leader itself.
import {
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  NodeCAClient,
  ShoalError,
  channelCredentials,
  unaryCall,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
  type pki,
  type TlsMaterial,
} from "@shoal/shared";
import { forwardedMetadata } from "../auth/caller.js";
import { forwardError } from "../controlapi/forward.js";

/**
 * How long a forwarded call may take: less than a joining node's own deadline for the call
 * (NODE_CA_CALL_TIMEOUT_MS, 15 s), so that the node hears why the leader did not answer and moves
 * on to its next manager, rather than reaching its deadline.
 */
export const NODE_CA_FORWARD_TIMEOUT_MS = 10_000;

export interface NodeCaForwarderOptions {
  /**
   * This manager's certificate, read when a channel to a leader is made. The material is renewed
   * in place (TlsMaterial.update), and channels built on it present the renewed certificate.
   */
  readonly material: () => TlsMaterial;
  readonly timeoutMs?: number;
}

export class NodeCaForwarder {
  /** One channel per leader address; a few at most over a manager's life. */
  readonly #clients = new Map<string, NodeCAClient>();
  readonly #closed = new AbortController();

  constructor(private readonly options: NodeCaForwarderOptions) {}

  /**
   * IssueNodeCertificate at `leaderAddr` for `caller`; `signal` cancels it (the caller went away).
   * Rejects with the leader's own answer, or UNAVAILABLE naming the leader when it cannot be
   * reached (the joining node then tries its next manager).
   */
  issue(
    leaderAddr: string,
    request: IssueNodeCertificateRequest,
    caller: pki.CertIdentity | undefined,
    signal?: AbortSignal,
  ): Promise<IssueNodeCertificateResponse> {
    const closed = this.#closed.signal;
    if (closed.aborted) return Promise.reject(closed.reason as Error);
    return unaryCall(this.client(leaderAddr), "issueNodeCertificate", request, {
      metadata: forwardedMetadata(caller),
      timeoutMs: this.options.timeoutMs ?? NODE_CA_FORWARD_TIMEOUT_MS,
      signal: signal ? AbortSignal.any([signal, closed]) : closed,
      toError: (err) => forwardError(leaderAddr, err),
    });
  }

  /** Cancels the calls in flight and closes the channels. Idempotent. */
  close(): void {
    if (!this.#closed.signal.aborted) {
      this.#closed.abort(new ShoalError(ErrorCode.Unavailable, "this manager is stopping: try another manager"));
    }
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  private client(leaderAddr: string): NodeCAClient {
    let client = this.#clients.get(leaderAddr);
    if (!client) {
      client = new NodeCAClient(leaderAddr, channelCredentials(this.options.material()), MANAGER_CHANNEL_OPTIONS);
      this.#clients.set(leaderAddr, client);
    }
    return client;
  }
}
