// Dispatcher: one session per agent, served by the leader. The agent opens a Session stream
// (registering its node in the store), heartbeats within the period it is given, receives the
// tasks assigned to its node as a stream (the complete set, then changes per commit), and reports
// task status, which is batched into store writes. A node that misses `missedHeartbeats` periods
// becomes DOWN. When this manager becomes leader, the nodes it finds are UNKNOWN and get a grace
// time to reconnect before they are DOWN: a leader change never moves a running task.
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  InvalidArgumentError,
  NodeState,
  NotFoundError,
  ShoalError,
  componentLogger,
  durationFromMs,
  errorMessage,
  newId,
  toServiceError,
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
  type WeightedPeer,
} from "@shoal/shared";
import type { MemoryStore } from "../state/store/index.js";
import { streamAssignments } from "./assignments-stream.js";
import { caSignal, watchCaSignal } from "./ca-signal.js";
import { HeartbeatSettings } from "./heartbeat-settings.js";
import { ImagePulls, type PullSessions } from "./image-pulls.js";
import { StatusBatcher } from "./status-batcher.js";
import { managerOnly } from "../nodes/manager-node.js";

/** How often agents heartbeat when the manager is not told otherwise. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 1000;

export interface DispatcherOptions {
  readonly store: MemoryStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Whether this manager leads now, and where the leader is otherwise. */
  isLeader(): boolean;
  leaderAddr(): string | undefined;
  /** The managers agents may fail over to. */
  managers(): WeightedPeer[];
  /**
   * The caller's node id, from its verified certificate (callerOf in production); undefined for a
   * caller without one. Never taken from a request.
   */
  nodeIdOf(metadata: grpc.Metadata): string | undefined;
  /** Agent heartbeat period when the cluster's dispatcher config sets none; default 1 s. */
  readonly heartbeatPeriodMs?: number;
  /** A node is down after this many periods without a heartbeat; default 3. */
  readonly missedHeartbeats?: number;
  /**
   * After a leader change, how long a node may take to come back before it is down, when the
   * cluster's dispatcher config sets none; default 3 periods + 5 s.
   */
  readonly gracePeriodMs?: number;
}

interface Session {
  readonly id: string;
  readonly nodeId: string;
  readonly call: grpc.ServerWritableStream<SessionRequest, SessionResponse>;
  /** The agent pulls images on request (SessionRequest.image_pulls). */
  readonly imagePulls: boolean;
  /** The agent inspects images on request (SessionRequest.image_inspects). */
  readonly imageInspects: boolean;
  assignments?: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>;
  stopAssignments?: () => void;
}

export class Dispatcher {
  private readonly sessions = new Map<string, Session>();
  /** Down timers by node id: reset by heartbeats, started for every known node on leadership. */
  private readonly expiries = new Map<string, Timer>();
  private readonly logger: Logger;
  private readonly heartbeats: HeartbeatSettings;
  private readonly statuses: StatusBatcher;
  /** Image pulls on every ready node (Control.PullImage), through the sessions. */
  readonly imagePulls: ImagePulls;
  private leading = false;
  private stopped = false;
  /** Told of every session that ends (container calls end with it). */
  private readonly sessionEndListeners = new Set<(nodeId: string, sessionId: string) => void>();

  constructor(private readonly options: DispatcherOptions) {
    this.logger = componentLogger(options.logger, "dispatcher");
    this.heartbeats = new HeartbeatSettings(options.store, options.clock, {
      periodMs: options.heartbeatPeriodMs ?? DEFAULT_HEARTBEAT_PERIOD_MS,
      missed: options.missedHeartbeats ?? 3,
      graceMs: options.gracePeriodMs,
    });
    this.statuses = new StatusBatcher({ store: options.store, clock: options.clock, logger: options.logger });
    this.imagePulls = new ImagePulls({ clock: options.clock, logger: options.logger, sessions: this.pullSessions() });
  }

  handlers(): DispatcherServer {
    return {
      session: (call) => void this.session(call).catch((err: unknown) => call.emit("error", toServiceError(err))),
      heartbeat: (call, callback) => this.unary(call.request, callback, (req) => this.heartbeat(req, call.metadata)),
      assignments: (call) => this.assignments(call),
      updateTaskStatus: (call, callback) => {
        // Answered once the statuses are in the store: a failed write makes the agent send again.
        this.updateTaskStatus(call.request, call.metadata).then(
          (res) => callback(null, res),
          (err: unknown) => callback(toServiceError(err)),
        );
      },
      reportImagePull: this.imagePulls.reportHandler((sessionId, metadata) => {
        if (!this.options.isLeader()) throw this.notLeader();
        return this.sessionOf(sessionId, metadata).nodeId;
      }),
    };
  }

  /** Called when this manager gains or loses leadership. */
  setLeader(isLeader: boolean): void {
    if (isLeader === this.leading || this.stopped) return;
    this.leading = isLeader;
    if (isLeader) void this.takeOver();
    else this.endAll("this manager is no longer the leader");
  }

  private notLeader(): ShoalError {
    const leader = this.options.leaderAddr();
    return new ShoalError(
      ErrorCode.NotLeader,
      leader ? `not the leader; the leader is ${leader}` : "no leader is known now; try another manager",
      { details: { leader: leader ?? "" } },
    );
  }

  /** A new leader: nodes that were up are UNKNOWN until they reconnect within the grace time. */
  private async takeOver(): Promise<void> {
    const grace = this.heartbeats.graceMs();
    // Every node that is not down gets the grace time, whether or not marking it UNKNOWN works.
    const up = this.options.store
      .view((tx) => tx.nodes.find())
      // A manager no agent runs beside has no session to wait for: the manager-nodes component
      // keeps its status.
      .filter((n) => n.status?.state !== NodeState.DOWN && !managerOnly(n))
      .map((n) => n.id);
    for (const id of up) if (!this.hasSession(id)) this.arm(id, grace);
    try {
      await this.options.store.update((tx) => {
        for (const id of up) {
          const node = tx.nodes.get(id);
          if (!node || node.status?.state === NodeState.DOWN || node.status?.state === NodeState.UNKNOWN) continue;
          if (this.hasSession(id)) continue;
          node.status = {
            state: NodeState.UNKNOWN,
            message: "waiting for the agent after a leader change",
            addr: node.status?.addr ?? "",
          };
          tx.nodes.update(node);
        }
      });
    } catch (err: unknown) {
      this.logger.warn({ err: errorMessage(err) }, "could not mark nodes unknown after becoming leader");
    }
  }

  /** Whether node `nodeId` has an open session here. */
  hasSession(nodeId: string): boolean {
    for (const s of this.sessions.values()) if (s.nodeId === nodeId) return true;
    return false;
  }

  private async session(call: grpc.ServerWritableStream<SessionRequest, SessionResponse>): Promise<void> {
    if (this.stopped) throw new ShoalError(ErrorCode.Unavailable, "dispatcher is stopping");
    if (!this.options.isLeader()) throw this.notLeader();
    const request = call.request;
    const description = request.description;
    if (!description?.hostname) throw new InvalidArgumentError("is required", { field: "description.hostname" });
    const addr = peerHost(call.getPeer());
    // The node is the certificate's: NodeCA created it when the node joined with a token.
    const nodeId = this.options.nodeIdOf(call.metadata);
    if (nodeId === undefined) {
      throw new ShoalError(
        ErrorCode.Unauthenticated,
        "a session needs the node's certificate; join with a token first",
      );
    }
    const node = await this.options.store.update((tx) => {
      const existing = tx.nodes.get(nodeId);
      if (!existing) {
        throw new ShoalError(
          ErrorCode.Unauthenticated,
          `node ${nodeId} is not in the cluster (removed): join again with a token`,
        );
      }
      existing.description = description;
      existing.status = { state: NodeState.READY, message: "", addr };
      tx.nodes.update(existing);
      return nodeId;
    });
    const sessionId = newId();
    // A node has one session: a newer one replaces the older (the agent reconnected).
    for (const s of [...this.sessions.values()]) if (s.nodeId === nodeId) this.endSession(s.id, undefined);
    this.sessions.set(sessionId, {
      id: sessionId,
      nodeId,
      call,
      imagePulls: request.imagePulls,
      imageInspects: request.imageInspects,
    });
    this.arm(nodeId, this.heartbeats.downAfterMs());
    this.logger.info({ nodeId, sessionId, hostname: description.hostname, addr }, "agent session opened");
    const { stored, rootCa } = this.options.store.view((tx) => ({
      stored: tx.nodes.get(node),
      rootCa: tx.clusters.find()[0]?.rootCa,
    }));
    const signal = caSignal(rootCa, stored, nodeId);
    call.write({ sessionId, node: stored, managers: this.options.managers(), ...signal, imagePull: undefined });
    // A root rotation (renew now) or its end (a new root) reaches the node on its open session.
    const stopSignal = watchCaSignal(this.options.store, nodeId, signal, (next, current) => {
      if (!this.sessions.has(sessionId)) return;
      call.write({ sessionId, node: current, managers: this.options.managers(), ...next, imagePull: undefined });
    });
    call.on("finish", stopSignal);
    call.on("error", stopSignal);
    call.on("cancelled", () => {
      stopSignal();
      // The stream alone does not make the node down: missed heartbeats do.
      const s = this.sessions.get(sessionId);
      if (s) {
        s.stopAssignments?.();
        this.sessions.delete(sessionId);
        this.imagePulls.sessionEnded(nodeId);
        this.sessionEnded(nodeId, sessionId);
      }
    });
  }

  /** Whether `sessionId` is the open session of node `nodeId` (sessions live on the leader). */
  isOpenSession(nodeId: string, sessionId: string): boolean {
    return this.sessions.get(sessionId)?.nodeId === nodeId;
  }

  /** Calls `fn` whenever a session ends (replaced, node down, agent gone, leadership lost). */
  onSessionEnd(fn: (nodeId: string, sessionId: string) => void): () => void {
    this.sessionEndListeners.add(fn);
    return () => this.sessionEndListeners.delete(fn);
  }

  private sessionEnded(nodeId: string, sessionId: string): void {
    for (const fn of [...this.sessionEndListeners]) fn(nodeId, sessionId);
  }

  /** The session, if the caller is its node: a node reports and reads for itself only. */
  private sessionOf(sessionId: string, metadata: grpc.Metadata): Session {
    const session = this.sessions.get(sessionId);
    if (!session || session.nodeId !== this.options.nodeIdOf(metadata)) throw new NotFoundError("session", sessionId);
    return session;
  }

  private heartbeat(request: HeartbeatRequest, metadata: grpc.Metadata): HeartbeatResponse {
    if (!this.options.isLeader()) throw this.notLeader();
    const session = this.sessionOf(request.sessionId, metadata);
    // One reading for both: the node is judged by the period it is told now.
    const periodMs = this.heartbeats.periodMs();
    this.arm(session.nodeId, this.heartbeats.downAfterMs(periodMs));
    return { period: durationFromMs(periodMs) };
  }

  private arm(nodeId: string, ms: number): void {
    this.expiries.get(nodeId)?.cancel();
    this.expiries.set(
      nodeId,
      this.options.clock.setTimeout(() => {
        this.expiries.delete(nodeId);
        void this.markDown(nodeId, "heartbeat failure");
      }, ms),
    );
  }

  private async markDown(nodeId: string, message: string): Promise<void> {
    if (!this.leading || this.stopped) return;
    for (const s of [...this.sessions.values()]) if (s.nodeId === nodeId) this.endSession(s.id, undefined);
    try {
      await this.options.store.update((tx) => {
        const node = tx.nodes.get(nodeId);
        if (!node || node.status?.state === NodeState.DOWN) return;
        node.status = { state: NodeState.DOWN, message, addr: node.status?.addr ?? "" };
        tx.nodes.update(node);
      });
      this.logger.warn({ nodeId, reason: message }, "node is down");
    } catch (err: unknown) {
      this.logger.warn({ nodeId, err: errorMessage(err) }, "could not mark node down");
    }
  }

  private assignments(call: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>): void {
    const session = this.sessions.get(call.request.sessionId);
    if (!this.options.isLeader() || !session || session.nodeId !== this.options.nodeIdOf(call.metadata)) {
      call.emit(
        "error",
        toServiceError(
          session && this.options.isLeader() ? this.notLeader() : new NotFoundError("session", call.request.sessionId),
        ),
      );
      return;
    }
    session.stopAssignments?.();
    session.stopAssignments = streamAssignments(this.options.store, session.nodeId, call, this.logger);
    session.assignments = call;
  }

  private async updateTaskStatus(
    request: UpdateTaskStatusRequest,
    metadata: grpc.Metadata,
  ): Promise<UpdateTaskStatusResponse> {
    if (!this.options.isLeader()) throw this.notLeader();
    // Statuses of tasks not assigned to the session's node are dropped (StatusBatcher).
    const session = this.sessionOf(request.sessionId, metadata);
    const written: Promise<void>[] = [];
    for (const u of request.updates) if (u.status) written.push(this.statuses.add(session.nodeId, u.taskId, u.status));
    try {
      await Promise.all(written);
    } catch (err: unknown) {
      throw new ShoalError(ErrorCode.Unavailable, `task status not recorded: ${errorMessage(err)}`);
    }
    return {};
  }

  private endSession(sessionId: string, error: ShoalError | undefined): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    session.stopAssignments?.();
    this.imagePulls.sessionEnded(session.nodeId);
    this.sessionEnded(session.nodeId, sessionId);
    if (error) session.call.emit("error", toServiceError(error));
    else session.call.end();
  }

  private endAll(reason: string): void {
    for (const timer of this.expiries.values()) timer.cancel();
    this.expiries.clear();
    this.statuses.stop();
    this.imagePulls.close(reason);
    const error = new ShoalError(ErrorCode.NotLeader, reason);
    for (const id of [...this.sessions.keys()]) this.endSession(id, error);
  }

  private unary<Req, Res>(request: Req, callback: grpc.sendUnaryData<Res>, fn: (req: Req) => Res): void {
    try {
      callback(null, fn(request));
    } catch (err: unknown) {
      callback(toServiceError(err));
    }
  }

  /** What the image pulls need of the sessions: the ready nodes, and a way to ask their agents. */
  private pullSessions(): PullSessions {
    return {
      leading: () => this.leading && !this.stopped && this.options.isLeader(),
      readyNodes: () =>
        this.options.store
          .view((tx) => tx.nodes.find())
          // A manager with no agent beside it has no engine to pull on.
          .filter((n) => n.status?.state === NodeState.READY && !managerOnly(n))
          .map((n) => ({ nodeId: n.id, hostname: n.description?.hostname ?? "" }))
          .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.nodeId.localeCompare(b.nodeId)),
      ask: (nodeId, imagePull) => {
        const session = [...this.sessions.values()].find((s) => s.nodeId === nodeId);
        if (!session) return "the node has no open session with the leader";
        if (!session.imagePulls) return "the node's agent does not pull images on request (upgrade it)";
        if (imagePull.inspectOnly && !session.imageInspects) {
          return "the node's agent does not inspect images on request (upgrade it)";
        }
        const { id: sessionId, call } = session;
        call.write({ sessionId, node: undefined, managers: [], rootCaDigest: "", renewCertificate: false, imagePull });
        return undefined;
      },
    };
  }

  /** Ends every session; idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.endAll("dispatcher is stopping");
    this.stopped = true;
  }
}

/** "ipv4:10.0.0.5:51234" or "10.0.0.5:51234" -> "10.0.0.5". */
function peerHost(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, "");
  const i = p.lastIndexOf(":");
  return (i === -1 ? p : p.slice(0, i)).replace(/^\[|\]$/g, "");
}
