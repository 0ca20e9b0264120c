// A follower's Control calls that must run on the leader (writes) go there unchanged.
// It calls with this manager's certificate and names the original caller (shoal-forwarded-for),
// whom the leader's auth interceptor checks as if it had called directly.
import * as grpc from "@grpc/grpc-js";
import {
  ControlClient,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  ShoalError,
  channelCredentials,
  fromServiceError,
  unaryCall,
  type pki,
  type RequestOf,
  type ResponseOf,
  type TlsMaterial,
  type UnaryMethodName,
} from "@shoal/shared";
import { forwardedMetadata } from "../auth/caller.js";

export class LeaderForwarder {
  private readonly clients = new Map<string, ControlClient>();

  constructor(private readonly material: TlsMaterial) {}

  call<K extends UnaryMethodName<ControlClient>>(
    leaderAddr: string,
    method: K,
    request: RequestOf<ControlClient, K>,
    caller: pki.CertIdentity | undefined,
    timeoutMs = 15_000,
  ): Promise<ResponseOf<ControlClient, K>> {
    let client = this.clients.get(leaderAddr);
    if (!client) {
      client = new ControlClient(leaderAddr, channelCredentials(this.material), MANAGER_CHANNEL_OPTIONS);
      this.clients.set(leaderAddr, client);
    }
    return unaryCall(client, method, request, {
      metadata: forwardedMetadata(caller),
      timeoutMs,
      toError: (err) => forwardError(leaderAddr, err),
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/**
 * The leader's own answer as it is; a leader that cannot be reached (no connection: the call was
 * never sent) said nothing, so say that, and what it may mean. For NodeCA's forwarder too.
 */
export function forwardError(leaderAddr: string, err: grpc.ServiceError): ShoalError {
  // Every answer of a Shoal handler carries its error code (shared's toServiceError sets it).
  const answered = err.metadata instanceof grpc.Metadata && err.metadata.get("shoal-error-code").length > 0;
  if (answered || err.code !== grpc.status.UNAVAILABLE) return fromServiceError(err);
  return new ShoalError(
    ErrorCode.Unavailable,
    `the leader at ${leaderAddr} cannot be reached from this manager (${err.details}); it may have just ` +
      `failed: a new leader is elected within seconds if a majority of the managers is up`,
    { cause: err, details: { leader: leaderAddr } },
  );
}
