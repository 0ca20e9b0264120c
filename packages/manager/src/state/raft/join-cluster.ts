// A new manager asks the cluster to add it to the Raft group (RaftMembership.Join; the leader
// proposes the change). While the cluster has no leader (an election, a leader just lost) the call
// is retried with backoff, for up to a minute.
import {
  Backoff,
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  RaftMembershipClient,
  ShoalError,
  channelCredentials,
  errorMessage,
  unaryCall,
  type Clock,
  type JoinRequest,
  type JoinResponse,
  type Logger,
  type TlsMaterial,
} from "@shoal/shared";

/** How long to keep asking while the cluster has no leader. */
export const JOIN_DEADLINE_MS = 60_000;
/** How long one Join call may take. */
export const JOIN_CALL_TIMEOUT_MS = 20_000;

/** One manager of the cluster, asked to add this one. */
export interface MembershipJoiner {
  /** One Join call that fails after `timeoutMs`; rejects with a ShoalError. */
  join(req: JoinRequest, timeoutMs: number, signal: AbortSignal): Promise<JoinResponse>;
  close(): void;
}

export interface JoinClusterOptions {
  /** HOST:PORT of a manager of the cluster. */
  readonly target: string;
  readonly nodeId: string;
  /** This manager's advertised address, where the others reach it. */
  readonly addr: string;
  readonly material: TlsMaterial;
  readonly clock: Clock;
  /** Aborting gives up at once (the manager stops). */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly deadlineMs?: number;
  readonly backoff?: Backoff;
  /** Default: RaftMembership over gRPC with this manager's certificate. */
  readonly joiner?: MembershipJoiner;
}

const RETRYABLE = new Set<string>([ErrorCode.Unavailable, ErrorCode.NotLeader, ErrorCode.DeadlineExceeded]);

/** Asks the cluster at `target` to add this manager; retries while it has no leader. */
export async function joinCluster(options: JoinClusterOptions): Promise<JoinResponse> {
  const { target, clock, signal } = options;
  const joiner = options.joiner ?? grpcJoiner(target, options.material);
  const backoff = options.backoff ?? new Backoff({ initialMs: 200, maxMs: 2000 });
  const deadline = clock.now() + (options.deadlineMs ?? JOIN_DEADLINE_MS);
  try {
    for (;;) {
      signal.throwIfAborted();
      try {
        const res = await joiner.join(
          { addr: options.addr, nodeId: options.nodeId, joinToken: "" },
          JOIN_CALL_TIMEOUT_MS,
          signal,
        );
        options.logger.info(
          { via: target, raftId: res.raftId.toString(16), members: res.members.length },
          "joined the cluster",
        );
        return res;
      } catch (err: unknown) {
        signal.throwIfAborted();
        const code = err instanceof ShoalError ? err.code : undefined;
        if (code === undefined || !RETRYABLE.has(code) || clock.now() > deadline) {
          throw new ShoalError(
            code ?? ErrorCode.Unavailable,
            `cannot join the cluster through ${target}: ${errorMessage(err)}`,
            {
              cause: err,
            },
          );
        }
        await clock.sleep(backoff.next(), signal);
      }
    }
  } finally {
    joiner.close();
  }
}

/** RaftMembership.Join over gRPC, with this manager's certificate. */
export function grpcJoiner(target: string, material: TlsMaterial): MembershipJoiner {
  const client = new RaftMembershipClient(target, channelCredentials(material), MANAGER_CHANNEL_OPTIONS);
  return {
    join: (req, timeoutMs, signal) => unaryCall(client, "join", req, { timeoutMs, signal }),
    close: () => client.close(),
  };
}
