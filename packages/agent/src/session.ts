// The agent's link to the managers: it opens a dispatcher session on one manager, heartbeats
// within the period it is given, reads its assignments (when asked to) and lends the session to
// the status reporter; on any failure it moves to the next manager with backoff.
// Containers are not touched here: losing the managers never stops a task.
import type * as grpc from "@grpc/grpc-js";
import type { ImagePullReport } from "./pulls/image-puller.js";
import {
  AssignmentsType,
  ErrorCode,
  ShoalError,
  Backoff,
  DispatcherClient,
  componentLogger,
  durationToMs,
  errorMessage,
  fromServiceError,
  leaderHint,
  systemClock,
  unaryCall,
  type AssignmentsResponse,
  type Clock,
  type ImagePull,
  type Logger,
  type Node,
  type NodeDescription,
  type SessionResponse,
  type TaskStatusUpdate,
} from "@shoal/shared";

/** The longest wait before asking again after a manager said it knows no leader. */
const NO_LEADER_RETRY_MS = 500;

/** How long one UpdateTaskStatus call may take. */
const STATUS_CALL_TIMEOUT_MS = 10_000;

/** An open session, as lent to the agent's parts while it lasts. */
export interface SessionLink {
  readonly sessionId: string;
  /** The manager's address. */
  readonly manager: string;
  /** Aborts when this session ends. */
  readonly signal: AbortSignal;
  /** Sends task status updates on this session (UpdateTaskStatus); rejects on failure. */
  updateTaskStatus(updates: TaskStatusUpdate[], signal?: AbortSignal): Promise<void>;
  /** Opens a ReportImagePull stream for pull `pullId` on this session; cancelled when it ends. */
  reportImagePull(pullId: string): ImagePullReport;
}

export interface SessionOptions {
  /** Manager addresses, host:port; tried in turn. */
  readonly managers: readonly string[];
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly backoff?: Backoff;
  /** What to register; read again before each new session. */
  describe(signal: AbortSignal): Promise<NodeDescription>;
  /**
   * How to reach the managers: mutual TLS with the node's certificate (channelCredentials and
   * MANAGER_CHANNEL_OPTIONS), which names the node; the managers take the node id from it.
   */
  readonly channel: { readonly credentials: grpc.ChannelCredentials; readonly options?: grpc.ChannelOptions };
  /**
   * Called with every message of the session stream, the first included (the CA signal: root
   * rotation), except the requests for image pulls.
   */
  onSessionMessage?(message: SessionResponse): void;
  /**
   * When set, the agent offers to pull images on request (SessionRequest.image_pulls), and each
   * request of the session comes here, with the session to report on. Must not block.
   */
  onImagePull?(pull: ImagePull, link: SessionLink): void;
  /** Called with the node each time a session opens, before the assignments are read. */
  onSession?(node: Node, manager: string, link: SessionLink): void | Promise<void>;
  /**
   * When set, each session opens the Assignments stream and passes its messages here, one at a
   * time and in order (the next is read once this resolves). An INCREMENTAL message that does
   * not follow the set held reopens the stream (which starts again with the full set). A
   * rejection ends the session.
   */
  onAssignments?(message: AssignmentsResponse, signal: AbortSignal): Promise<void>;
}

/** Keeps a session open until `signal` aborts; never resolves before that. */
export async function runSession(options: SessionOptions, signal: AbortSignal): Promise<void> {
  const logger = componentLogger(options.logger, "session");
  const clock = options.clock ?? systemClock;
  // Capped well under a new leader's grace time for nodes (3 heartbeats + 5 s): an agent that
  // waits longer between tries while the managers elect is declared down and its tasks move.
  const backoff = options.backoff ?? new Backoff({ initialMs: 200, maxMs: 2000 });
  let next = 0;
  /** The leader a follower named when it refused us: tried next, at once. */
  let nextLeader: string | undefined;
  while (!signal.aborted) {
    const manager = nextLeader ?? options.managers[next % options.managers.length]!;
    if (nextLeader === undefined) next++;
    const followingHint = nextLeader !== undefined;
    nextLeader = undefined;
    const client = new DispatcherClient(manager, options.channel.credentials, options.channel.options ?? {});
    // Everything of this session (its calls, the link lent out) ends with it.
    const session = new AbortController();
    const sessionSignal = AbortSignal.any([signal, session.signal]);
    try {
      const opened = await openSession(client, manager, options, sessionSignal);
      const nodeId = opened.node.id;
      backoff.reset();
      logger.info({ manager, nodeId, sessionId: opened.sessionId }, "session open");
      await options.onSession?.(opened.node, manager, link(client, opened.sessionId, manager, sessionSignal));
      const loops = [heartbeatLoop(client, opened.sessionId, clock, sessionSignal, opened.ended)];
      if (options.onAssignments !== undefined) {
        loops.push(assignmentsLoop(client, opened.sessionId, options.onAssignments, clock, sessionSignal, logger));
      }
      for (const loop of loops) loop.catch(() => undefined); // the race below reports the first failure
      await Promise.race([...loops, opened.ended]);
    } catch (err: unknown) {
      if (signal.aborted) break;
      const refused = fromServiceError(err);
      if (refused.code === ErrorCode.PermissionDenied) {
        // A certificate that may not open sessions (not a node's): retrying cannot help. Say so
        // and stop. (UNAUTHENTICATED, a node the manager does not know, is retried: a manager
        // that is behind may not know it yet; a removed node stays refused.)
        throw new ShoalError(refused.code, `${manager} refused this node: ${refused.message}`, {
          cause: err,
        });
      }
      const leader = leaderHint(refused);
      // Followed at once, but not twice in a row: two managers with stale views must not bounce us.
      if (refused.code === ErrorCode.NotLeader && leader !== undefined && leader !== manager && !followingHint) {
        logger.info({ manager, leader }, "not the leader; going to the leader");
        nextLeader = leader;
        continue;
      }
      // A manager that answers "no leader" is up and will know the leader soon: ask again
      // shortly rather than after a growing backoff (meant for managers that cannot be reached).
      const delay =
        refused.code === ErrorCode.NotLeader ? Math.min(backoff.next(), NO_LEADER_RETRY_MS) : backoff.next();
      logger.warn({ manager, err: errorMessage(fromServiceError(err)), retryInMs: delay }, "session lost");
      session.abort();
      await clock.sleep(delay, signal).catch(() => undefined);
    } finally {
      session.abort();
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
  manager: string,
  options: SessionOptions,
  signal: AbortSignal,
): Promise<OpenSession> {
  const description = await options.describe(signal);
  const { onImagePull, onSessionMessage } = options;
  const imagePulls = onImagePull !== undefined;
  // An agent that pulls on request inspects on request too (ImagePull.inspect_only).
  const call = client.session({
    description,
    nodeId: "",
    sessionId: "",
    joinToken: "",
    imagePulls,
    imageInspects: imagePulls,
  });
  call.on("data", (message: SessionResponse) => {
    if (message.imagePull === undefined) onSessionMessage?.(message);
    else onImagePull?.(message.imagePull, link(client, message.sessionId, manager, signal));
  });
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

function link(client: DispatcherClient, sessionId: string, manager: string, sessionSignal: AbortSignal): SessionLink {
  return {
    sessionId,
    manager,
    signal: sessionSignal,
    updateTaskStatus: async (updates, signal) => {
      await unaryCall(
        client,
        "updateTaskStatus",
        { sessionId, updates },
        {
          signal: signal === undefined ? sessionSignal : AbortSignal.any([sessionSignal, signal]),
          timeoutMs: STATUS_CALL_TIMEOUT_MS,
        },
      );
    },
    reportImagePull: (pullId) => reportStream(client, sessionId, pullId, sessionSignal),
  };
}

function reportStream(
  client: DispatcherClient,
  sessionId: string,
  pullId: string,
  sessionSignal: AbortSignal,
): ImagePullReport {
  const closed = new AbortController();
  const stream = client.reportImagePull((err) => closed.abort(err ?? new Error("the manager answered")));
  stream.on("error", () => undefined); // the callback has it
  const cancel = (): void => stream.cancel();
  sessionSignal.addEventListener("abort", cancel, { once: true });
  closed.signal.addEventListener("abort", () => sessionSignal.removeEventListener("abort", cancel), { once: true });
  return {
    send: (report) => {
      if (!closed.signal.aborted) stream.write({ sessionId, pullId, imageJson: "", ...report });
    },
    end: () => {
      if (!closed.signal.aborted) stream.end();
    },
    closed: closed.signal,
  };
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
      unaryCall(client, "heartbeat", { sessionId }, { signal, timeoutMs: 5000 }),
      ended,
    ]);
    const periodMs = durationToMs(response.period, 1000);
    // Heartbeat a little before the period runs out, as swarmkit's agent does.
    await Promise.race([clock.sleep(periodMs * 0.8, signal), ended]);
  }
}

/**
 * Reads the Assignments stream of the session and hands each message on. Rejects when the stream
 * fails (the session is then lost). When the manager ends the stream cleanly (e.g. it lost track
 * of what it sent) or an incremental message does not follow the set held, the stream is opened
 * again, which starts with a full set.
 */
async function assignmentsLoop(
  client: DispatcherClient,
  sessionId: string,
  onAssignments: (message: AssignmentsResponse, signal: AbortSignal) => Promise<void>,
  clock: Clock,
  signal: AbortSignal,
  logger: Logger,
): Promise<never> {
  const backoff = new Backoff({ initialMs: 50, maxMs: 2000 });
  for (;;) {
    signal.throwIfAborted();
    const call = client.assignments({ sessionId });
    call.on("error", () => undefined); // read through the iterator below; cancel() also emits one
    const cancel = (): void => call.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    let held: string | undefined;
    let outOfOrder = false;
    try {
      for await (const message of call as AsyncIterable<AssignmentsResponse>) {
        if (message.type === AssignmentsType.INCREMENTAL && message.appliesTo !== held) {
          logger.warn({ held, appliesTo: message.appliesTo }, "assignments out of order; asking for the full set");
          outOfOrder = true;
          break;
        }
        await onAssignments(message, signal);
        held = message.resultsIn;
        if (message.type === AssignmentsType.COMPLETE) backoff.reset();
      }
    } finally {
      signal.removeEventListener("abort", cancel);
      call.cancel();
    }
    signal.throwIfAborted();
    const delay = outOfOrder ? 0 : backoff.next();
    if (!outOfOrder) logger.info({ reopenInMs: delay }, "the manager ended the assignments stream; reopening it");
    await clock.sleep(delay, signal);
  }
}
