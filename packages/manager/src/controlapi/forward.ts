// A follower's Control calls that must run on the leader (writes) go there unchanged.
import * as grpc from "@grpc/grpc-js";
import { ControlClient, ErrorCode, ShoalError, fromServiceError } from "@shoal/shared";

const FORWARDED = "shoal-forwarded";

function forwardedMetadata(): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set(FORWARDED, "1");
  return m;
}

export function isForwarded(metadata: grpc.Metadata): boolean {
  return metadata.get(FORWARDED).length > 0;
}

export class LeaderForwarder {
  private readonly clients = new Map<string, ControlClient>();

  call<Res>(leaderAddr: string, method: string, request: unknown, timeoutMs = 15_000): Promise<Res> {
    let client = this.clients.get(leaderAddr);
    if (!client) {
      client = new ControlClient(leaderAddr, grpc.credentials.createInsecure());
      this.clients.set(leaderAddr, client);
    }
    const fn = client[method as keyof ControlClient] as unknown as (
      req: unknown,
      metadata: grpc.Metadata,
      options: Partial<grpc.CallOptions>,
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => void;
    const c = client;
    return new Promise((resolve, reject) =>
      fn.call(c, request, forwardedMetadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(forwardError(leaderAddr, err)) : resolve(res),
      ),
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/**
 * The leader's own answer as it is; a leader that cannot be reached (no connection: the call was
 * never sent) said nothing, so say that, and what it may mean.
 */
function forwardError(leaderAddr: string, err: grpc.ServiceError): ShoalError {
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
