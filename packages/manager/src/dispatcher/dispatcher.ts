// Dispatcher: one session per agent. The agent opens a Session stream (registering its node),
// heartbeats within the period it is given, and its node becomes DOWN after it misses
// `missedHeartbeats` periods. Assignments and task status arrive with the scheduler.
import type * as grpc from "@grpc/grpc-js";
import {
  AssignmentsType,
  InvalidArgumentError,
  NotFoundError,
  ShoalError,
  ErrorCode,
  toServiceError,
  componentLogger,
  durationFromMs,
  newId,
  NodeState,
  type AssignmentsRequest,
  type AssignmentsResponse,
  type Clock,
  type DispatcherServer,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type Logger,
  type SessionRequest,
  type SessionResponse,
  type Timer,
  type UpdateTaskStatusRequest,
  type UpdateTaskStatusResponse,
} from "@shoal/shared";
import type { NodeRegistry } from "./node-registry.js";

export interface DispatcherOptions {
  readonly registry: NodeRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Agent heartbeat period; default 1 s. */
  readonly heartbeatPeriodMs?: number;
  /** A node is down after this many periods without a heartbeat; default 3. */
  readonly missedHeartbeats?: number;
}

interface Session {
  readonly id: string;
  readonly nodeId: string;
  expiry: Timer;
  readonly call: grpc.ServerWritableStream<SessionRequest, SessionResponse>;
}

export class Dispatcher {
  private readonly sessions = new Map<string, Session>();
  private readonly logger: Logger;
  private readonly periodMs: number;
  private readonly missed: number;
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {
    this.logger = componentLogger(options.logger, "dispatcher");
    this.periodMs = options.heartbeatPeriodMs ?? 1000;
    this.missed = options.missedHeartbeats ?? 3;
  }

  /** The gRPC handlers. */
  handlers(): DispatcherServer {
    return {
      session: (call) => this.session(call),
      heartbeat: (call, callback) => this.unary(call.request, callback, (req) => this.heartbeat(req)),
      assignments: (call) => this.assignments(call),
      updateTaskStatus: (call, callback) => this.unary(call.request, callback, (req) => this.updateTaskStatus(req)),
    };
  }

  private session(call: grpc.ServerWritableStream<SessionRequest, SessionResponse>): void {
    if (this.stopped) {
      call.emit("error", toServiceError(new ShoalError(ErrorCode.Unavailable, "dispatcher is stopping")));
      return;
    }
    const request = call.request;
    if (!request.description?.hostname) {
      call.emit("error", toServiceError(new InvalidArgumentError("is required", { field: "description.hostname" })));
      return;
    }
    const nodeId = request.nodeId || newId();
    const sessionId = newId();
    const node = this.options.registry.register(nodeId, request.description, call.getPeer());
    const session: Session = { id: sessionId, nodeId, call, expiry: this.expiryTimer(sessionId) };
    this.sessions.set(sessionId, session);
    this.logger.info({ nodeId, sessionId, hostname: request.description.hostname }, "agent session opened");
    call.write({ sessionId, node, managers: [] });
    // A dropped stream alone does not make the node down: the agent may be reconnecting. Missed
    // heartbeats do.
    call.on("cancelled", () => this.logger.info({ nodeId, sessionId }, "agent session stream closed"));
  }

  private heartbeat(request: HeartbeatRequest): HeartbeatResponse {
    const session = this.sessions.get(request.sessionId);
    if (!session) throw new NotFoundError("session", request.sessionId);
    session.expiry.cancel();
    session.expiry = this.expiryTimer(session.id);
    return { period: durationFromMs(this.periodMs) };
  }

  private assignments(call: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>): void {
    if (!this.sessions.has(call.request.sessionId)) {
      call.emit("error", toServiceError(new NotFoundError("session", call.request.sessionId)));
      return;
    }
    // No scheduler yet: the complete set is empty, and the stream stays open for changes.
    call.write({ type: AssignmentsType.COMPLETE, appliesTo: "", resultsIn: newId(), changes: [] });
  }

  private updateTaskStatus(request: UpdateTaskStatusRequest): UpdateTaskStatusResponse {
    if (!this.sessions.has(request.sessionId)) {
      throw new NotFoundError("session", request.sessionId);
    }
    return {};
  }

  private expiryTimer(sessionId: string): Timer {
    return this.options.clock.setTimeout(
      () => this.endSession(sessionId, "heartbeat failure"),
      this.periodMs * this.missed,
    );
  }

  private endSession(sessionId: string, reason: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    session.expiry.cancel();
    this.options.registry.setState(session.nodeId, NodeState.DOWN, reason);
    this.logger.warn({ nodeId: session.nodeId, sessionId, reason }, "agent session ended");
    session.call.end();
  }

  private unary<Req, Res>(request: Req, callback: grpc.sendUnaryData<Res>, fn: (req: Req) => Res): void {
    try {
      callback(null, fn(request));
    } catch (err: unknown) {
      callback(toServiceError(err));
    }
  }

  /** Ends every session; idempotent. */
  stop(): void {
    this.stopped = true;
    for (const session of [...this.sessions.values()]) {
      session.expiry.cancel();
      session.call.end();
    }
    this.sessions.clear();
  }
}
