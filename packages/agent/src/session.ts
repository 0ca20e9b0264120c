// The agent's link to the managers: it opens a dispatcher session on one manager, heartbeats
// within the period it is given, and on any failure moves to the next manager with backoff.
// Containers are not touched here: losing the managers never stops a task.
import * as grpc from "@grpc/grpc-js";
import {
  Backoff,
  DispatcherClient,
  componentLogger,
  durationToMs,
  errorMessage,
  fromServiceError,
  systemClock,
  type Clock,
  type Logger,
  type Node,
  type NodeDescription,
  type SessionResponse,
} from "@shoal/shared";

export interface SessionOptions {
  /** Manager addresses, host:port; tried in turn. */
  readonly managers: readonly string[];
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly backoff?: Backoff;
  /** What to register; read again before each new session. */
  describe(signal: AbortSignal): Promise<NodeDescription>;
  /** The node id from an earlier session, if any. */
  readonly nodeId?: string;
  /** Called with the node each time a session opens. */
  onSession?(node: Node, manager: string): void | Promise<void>;
}

/** Keeps a session open until `signal` aborts; never resolves before that. */
export async function runSession(options: SessionOptions, signal: AbortSignal): Promise<void> {
  const logger = componentLogger(options.logger, "session");
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ?? new Backoff({ initialMs: 200, maxMs: 5000 });
  let nodeId = options.nodeId ?? "";
  let next = 0;
  while (!signal.aborted) {
    const manager = options.managers[next % options.managers.length]!;
    next++;
    const client = new DispatcherClient(manager, grpc.credentials.createInsecure());
    try {
      const opened = await openSession(client, { ...options, nodeId }, signal);
      nodeId = opened.node.id;
      backoff.reset();
      logger.info({ manager, nodeId, sessionId: opened.sessionId }, "session open");
      await options.onSession?.(opened.node, manager);
      await heartbeatLoop(client, opened.sessionId, clock, signal, opened.ended);
    } catch (err: unknown) {
      if (signal.aborted) break;
      const delay = backoff.next();
      logger.warn({ manager, err: errorMessage(fromServiceError(err)), retryInMs: delay }, "session lost");
      await clock.sleep(delay, signal).catch(() => undefined);
    } finally {
      client.close();
    }
  }
}

interface OpenSession {
  readonly sessionId: string;
  readonly node: Node;
  /** Rejects when the session stream ends or fails. */
  readonly ended: Promise<never>;
}

async function openSession(
  client: DispatcherClient,
  options: SessionOptions & { nodeId: string },
  signal: AbortSignal,
): Promise<OpenSession> {
  const description = await options.describe(signal);
  const call = client.session({ description, nodeId: options.nodeId, sessionId: "", joinToken: "" });
  signal.addEventListener("abort", () => call.cancel(), { once: true });
  const ended = new Promise<never>((_, reject) => {
    call.on("error", reject);
    call.on("end", () => reject(new Error("the manager ended the session")));
  });
  ended.catch(() => undefined);
  const first = await Promise.race([new Promise<SessionResponse>((resolve) => call.once("data", resolve)), ended]);
  if (!first.node) throw new Error("the manager opened a session without a node");
  return { sessionId: first.sessionId, node: first.node, ended };
}

async function heartbeatLoop(
  client: DispatcherClient,
  sessionId: string,
  clock: Clock,
  signal: AbortSignal,
  ended: Promise<never>,
): Promise<void> {
  while (!signal.aborted) {
    const response = await Promise.race([
      new Promise<{ period?: { seconds: number; nanos: number } | undefined }>((resolve, reject) =>
        client.heartbeat({ sessionId }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      ),
      ended,
    ]);
    const periodMs = durationToMs(response.period, 1000);
    // Heartbeat a little before the period runs out, as swarmkit's agent does.
    await Promise.race([clock.sleep(periodMs * 0.8, signal), ended]);
  }
}
