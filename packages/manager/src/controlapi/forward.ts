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
  type PullImageRequest,
  type PullImageResponse,
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

  private client(leaderAddr: string): ControlClient {
    let client = this.clients.get(leaderAddr);
    if (!client) {
      client = new ControlClient(leaderAddr, channelCredentials(this.material), MANAGER_CHANNEL_OPTIONS);
      this.clients.set(leaderAddr, client);
    }
    return client;
  }

  call<K extends UnaryMethodName<ControlClient>>(
    leaderAddr: string,
    method: K,
    request: RequestOf<ControlClient, K>,
    caller: pki.CertIdentity | undefined,
    timeoutMs = 15_000,
  ): Promise<ResponseOf<ControlClient, K>> {
    return unaryCall(this.client(leaderAddr), method, request, {
      metadata: forwardedMetadata(caller),
      timeoutMs,
      toError: (err) => forwardError(leaderAddr, err),
    });
  }

  /**
   * PullImage (a server stream) on the leader, as its messages: ends with the leader's stream,
   * throws its error, and is cancelled when `signal` aborts (the caller's deadline included).
   */
  async *pullImage(
    leaderAddr: string,
    request: PullImageRequest,
    caller: pki.CertIdentity | undefined,
    signal: AbortSignal,
  ): AsyncIterable<PullImageResponse> {
    const call = this.client(leaderAddr).pullImage(request, forwardedMetadata(caller));
    const cancel = (): void => call.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      for await (const message of call as AsyncIterable<PullImageResponse>) yield message;
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw isServiceError(err) ? forwardError(leaderAddr, err) : err;
    } finally {
      signal.removeEventListener("abort", cancel);
      call.cancel();
    }
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

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === "number";
}
