// Calls to a manager's NodeCA: one-shot calls for joining (each on its own channel, since each
// trusts something different) and a reusable issuer over mutual TLS for renewals.
import { ErrorCode, ShoalError } from "../errors.js";
import { unaryCall, type UnaryCallOptions } from "../grpc/unary-call.js";
import { channelCredentials, MANAGER_CHANNEL_OPTIONS } from "./credentials.js";
import {
  NodeCAClient,
  type GetRootCACertificateResponse,
  type IssueNodeCertificateRequest,
  type IssueNodeCertificateResponse,
} from "../gen/shoal/v1/ca.js";
import type { TlsMaterial } from "./tls-material.js";

/** How long one NodeCA call may take by default. */
export const NODE_CA_CALL_TIMEOUT_MS = 15_000;

/** Asks for certificates over some connection; the renewer calls it, tests fake it. */
export type CertificateIssuer = (
  request: IssueNodeCertificateRequest,
  signal: AbortSignal,
) => Promise<IssueNodeCertificateResponse>;

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

/** NodeCA.GetRootCACertificate on `client`. */
export function getRootCa(client: NodeCAClient, options: CallOptions = {}): Promise<GetRootCACertificateResponse> {
  return unaryCall(client, "getRootCaCertificate", {}, callOptions(options));
}

/** NodeCA.IssueNodeCertificate on `client`. */
export function issueNodeCertificate(
  client: NodeCAClient,
  request: IssueNodeCertificateRequest,
  options: CallOptions = {},
): Promise<IssueNodeCertificateResponse> {
  return unaryCall(client, "issueNodeCertificate", request, callOptions(options));
}

/**
 * An issuer that renews over mutual TLS with `material`, trying the managers `addresses()` names
 * in order until one answers (a follower forwards to the leader; one that is down, or knows no
 * leader, fails, and the next is tried). Channels are kept per address; `close()` ends them.
 */
export class NodeCaIssuer {
  readonly #clients = new Map<string, NodeCAClient>();

  constructor(
    private readonly material: TlsMaterial,
    private readonly addresses: () => readonly string[],
    private readonly timeoutMs = NODE_CA_CALL_TIMEOUT_MS,
  ) {}

  readonly issue: CertificateIssuer = async (request, signal) => {
    let last: unknown = new ShoalError(ErrorCode.Unavailable, "no manager address to renew the certificate with");
    for (const addr of this.addresses()) {
      signal.throwIfAborted();
      try {
        return await issueNodeCertificate(this.client(addr), request, { signal, timeoutMs: this.timeoutMs });
      } catch (err: unknown) {
        if (!isRetryable(err)) throw err;
        last = err;
      }
    }
    throw last;
  };

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  private client(addr: string): NodeCAClient {
    let client = this.#clients.get(addr);
    if (!client) {
      client = new NodeCAClient(addr, channelCredentials(this.material), MANAGER_CHANNEL_OPTIONS);
      this.#clients.set(addr, client);
    }
    return client;
  }
}

/** Whether another manager may answer where this one failed: it is down, or not the leader. */
export function isRetryable(err: unknown): boolean {
  return (
    err instanceof ShoalError &&
    (err.code === ErrorCode.Unavailable || err.code === ErrorCode.NotLeader || err.code === ErrorCode.DeadlineExceeded)
  );
}

function callOptions({ signal, timeoutMs = NODE_CA_CALL_TIMEOUT_MS }: CallOptions): UnaryCallOptions {
  return { signal, timeoutMs };
}
