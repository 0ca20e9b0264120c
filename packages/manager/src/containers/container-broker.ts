// The Containers service (containers.proto): container calls from clients to the agents, as the
// log broker does for logs. Any manager takes a ContainerCall; a follower forwards it whole to the
// leader (container-forward.ts). The leader resolves the container (resolve-container.ts), records
// an exec or attach in the Raft log (an AuditRecord, before the agent hears of it: no exec goes
// unrecorded), hands the call to the node's agent on its ListenContainerCalls stream, and pipes it
// once the agent answers on ServeContainerCall (brokered-call.ts). An agent's listener belongs to
// its dispatcher session: when the session ends, the listener and every call it serves end with
// UNAVAILABLE.
import type * as grpc from "@grpc/grpc-js";
import {
  ContainerOp,
  ErrorCode,
  InvalidArgumentError,
  NotFoundError,
  ShoalError,
  UnavailableError,
  componentLogger,
  errorMessage,
  newId,
  toServiceError,
  type AuditRecord,
  type Clock,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type ContainersServer,
  type ListenContainerCallsRequest,
  type ListenContainerCallsResponse,
  type Logger,
  type ServeContainerCallRequest,
  type Timer,
  type TlsMaterial,
} from "@shoal/shared";
import { callerOf } from "../auth/caller.js";
import type { MemoryStore } from "../state/store/index.js";
import { BrokeredCall, end, type AgentStream, type ClientStream } from "./brokered-call.js";
import { acceptOpen, isExecLike } from "./call-open.js";
import { ContainerForward } from "./container-forward.js";
import { NoSuchContainerError, resolveContainer, type ContainerTarget } from "./resolve-container.js";

/** How long the leader waits for the agent to take a call it was handed. */
export const AGENT_WAIT_MS = 10_000;
/**
 * How long a call whose agent stream broke off waits for the agent's session to end too (an agent
 * that stops breaks both at once, in either order), to say so; then it ends anyway.
 */
export const AGENT_GONE_GRACE_MS = 1_000;

/** What the broker needs of the dispatcher: the agents' sessions (on the leader). */
export interface AgentSessions {
  isOpenSession(nodeId: string, sessionId: string): boolean;
  hasSession(nodeId: string): boolean;
  onSessionEnd(fn: (nodeId: string, sessionId: string) => void): () => void;
}

export interface ContainerBrokerOptions {
  readonly store: MemoryStore;
  readonly sessions: AgentSessions;
  readonly logger: Logger;
  readonly clock: Clock;
  /** This manager's certificate, to forward calls to the leader. */
  readonly material: TlsMaterial;
  isLeader(): boolean;
  leaderAddr(): string | undefined;
}

type ListenerStream = grpc.ServerWritableStream<ListenContainerCallsRequest, ListenContainerCallsResponse>;

interface Listener {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly call: ListenerStream;
}

const sessionEnded = (nodeId: string): UnavailableError =>
  new UnavailableError(`the agent session of node ${nodeId} ended`);

export class ContainerBroker {
  private readonly logger: Logger;
  private readonly listeners = new Map<string, Listener>();
  private readonly calls = new Map<string, BrokeredCall>();
  private readonly deadlines = new Map<string, Timer>();
  private readonly forward: ContainerForward;
  private readonly stopWatching: () => void;

  constructor(private readonly options: ContainerBrokerOptions) {
    this.logger = componentLogger(options.logger, "container-broker");
    this.forward = new ContainerForward(options.material, () => options.leaderAddr());
    this.stopWatching = options.sessions.onSessionEnd((nodeId, sessionId) => this.sessionEnded(nodeId, sessionId));
  }

  handlers(): ContainersServer {
    return {
      containerCall: (call) => this.containerCall(call),
      listenContainerCalls: (call) => this.listen(call),
      serveContainerCall: (call) => this.serve(call),
    };
  }

  private containerCall(call: ClientStream): void {
    call.on("error", () => undefined);
    let opened = false;
    call.once("data", (first: ContainerCallRequest) => {
      opened = true;
      call.pause();
      let open: ContainerCallOpen;
      try {
        open = acceptOpen(first, callerOf(call.metadata));
      } catch (err: unknown) {
        end(call, err instanceof ShoalError ? err : new ShoalError(ErrorCode.Internal, errorMessage(err)));
        return;
      }
      if (this.options.isLeader()) void this.open(call, open);
      else this.forward.forward(call, open);
    });
    call.once("end", () => {
      if (!opened) end(call, new ShoalError(ErrorCode.InvalidArgument, "input: the call ended before its open"));
    });
  }

  /** On the leader: resolve, record, hand to the agent, and wait for it to take the call. */
  private async open(client: ClientStream, open: ContainerCallOpen): Promise<void> {
    const gone = new AbortController();
    const cancelled = (): void => gone.abort();
    client.once("cancelled", cancelled);
    try {
      const target = this.options.store.view((tx) => resolveContainer(tx, open.container));
      const listener = this.listenerFor(target, open.container);
      if (isExecLike(open.op)) await this.audit(open, target, gone.signal);
      if (gone.signal.aborted) return;
      // The session may have ended while the record was written.
      if (this.listeners.get(target.nodeId) !== listener) throw sessionEnded(target.nodeId);
      const id = newId();
      const call = new BrokeredCall({
        id,
        target,
        open,
        sessionId: listener.sessionId,
        client,
        clock: this.options.clock,
        onEnd: (c) => this.ended(c),
        onAgentGone: (c) => this.agentGone(c),
      });
      this.calls.set(id, call);
      this.deadlines.set(
        id,
        this.options.clock.setTimeout(() => {
          call.fail(new UnavailableError(`the agent of node ${target.nodeId} did not take the call`));
        }, AGENT_WAIT_MS),
      );
      listener.call.write({ callId: id, taskId: target.task.id, containerId: target.containerId, open });
    } catch (err: unknown) {
      if (!gone.signal.aborted) end(client, err instanceof ShoalError ? err : new UnavailableError(errorMessage(err)));
    } finally {
      client.off("cancelled", cancelled);
    }
  }

  /** The agent listener of the target's node: UNAVAILABLE without a session, NOT_FOUND without a listener. */
  private listenerFor(target: ContainerTarget, ref: string): Listener {
    const { nodeId } = target;
    const listener = this.listeners.get(nodeId);
    if (listener && this.options.sessions.isOpenSession(nodeId, listener.sessionId)) return listener;
    if (!this.options.sessions.hasSession(nodeId)) {
      throw new UnavailableError(`node ${nodeId} has no session with the leader`);
    }
    throw new NoSuchContainerError(ref);
  }

  private async audit(open: ContainerCallOpen, target: ContainerTarget, signal: AbortSignal): Promise<void> {
    const record: AuditRecord = {
      action: open.op === ContainerOp.ATTACH ? "attach" : "exec",
      caller: open.caller,
      taskId: target.task.id,
      serviceId: target.serviceId,
      nodeId: target.nodeId,
      containerId: target.containerId,
      cmd: open.op === ContainerOp.ATTACH ? [] : (open.exec?.cmd ?? []),
      time: new Date(this.options.clock.now()),
      taskName: target.taskName,
    };
    try {
      await this.options.store.audit([record], signal);
    } catch (err: unknown) {
      if (signal.aborted) return;
      throw new UnavailableError(`the ${record.action} could not be recorded in the audit log: ${errorMessage(err)}`);
    }
    this.logger.info({ ...record, time: undefined }, `container ${record.action}`);
  }

  private listen(call: ListenerStream): void {
    const nodeId = callerOf(call.metadata)?.nodeId ?? "";
    const { sessionId } = call.request;
    const refuse = (err: ShoalError): void => void call.emit("error", toServiceError(err));
    if (!this.options.isLeader())
      return refuse(new ShoalError(ErrorCode.NotLeader, "container calls are served by the leader"));
    if (nodeId === "")
      return refuse(new ShoalError(ErrorCode.Unauthenticated, "listening needs the node's certificate"));
    if (call.request.nodeId !== "" && call.request.nodeId !== nodeId) {
      return refuse(new ShoalError(ErrorCode.PermissionDenied, `node ${nodeId} may listen for its own calls only`));
    }
    if (!this.options.sessions.isOpenSession(nodeId, sessionId)) return refuse(new NotFoundError("session", sessionId));
    const previous = this.listeners.get(nodeId);
    const listener: Listener = { nodeId, sessionId, call };
    this.listeners.set(nodeId, listener);
    if (previous) previous.call.end();
    this.logger.debug({ node: nodeId, session: sessionId }, "agent listens for container calls");
    const gone = (): void => {
      if (this.listeners.get(nodeId) !== listener) return;
      this.listeners.delete(nodeId);
      // Calls handed to it that its agent never took will not be.
      for (const c of [...this.calls.values()]) {
        if (c.nodeId === nodeId && !c.bound)
          c.fail(new UnavailableError(`the agent of node ${nodeId} stopped listening`));
      }
    };
    call.once("cancelled", gone);
    call.once("close", gone);
    call.on("error", () => undefined);
  }

  private serve(agent: AgentStream): void {
    const nodeId = callerOf(agent.metadata)?.nodeId ?? "";
    agent.on("error", () => undefined);
    let named = false;
    agent.once("end", () => {
      if (!named) end(agent, new InvalidArgumentError("the stream ended before naming its call", { field: "call_id" }));
    });
    agent.once("data", (first: ServeContainerCallRequest) => {
      named = true;
      const call = this.calls.get(first.callId);
      if (!call || call.bound || call.nodeId !== nodeId) {
        // Gone (its client went away) or never here: the agent stops what it started for it.
        end(agent, new NotFoundError("container call", first.callId));
        return;
      }
      this.deadlines.get(call.id)?.cancel();
      this.deadlines.delete(call.id);
      call.bind(agent, first);
    });
  }

  private agentGone(call: BrokeredCall): void {
    const { nodeId, sessionId } = call;
    if (!this.options.sessions.isOpenSession(nodeId, sessionId)) return call.fail(sessionEnded(nodeId));
    const gaveUp = new UnavailableError(`the agent of node ${nodeId} gave up the call`);
    this.deadlines.set(
      call.id,
      this.options.clock.setTimeout(() => call.fail(gaveUp), AGENT_GONE_GRACE_MS),
    );
  }

  private ended(call: BrokeredCall): void {
    this.calls.delete(call.id);
    this.deadlines.get(call.id)?.cancel();
    this.deadlines.delete(call.id);
  }

  private sessionEnded(nodeId: string, sessionId: string): void {
    const listener = this.listeners.get(nodeId);
    if (listener?.sessionId === sessionId) {
      this.listeners.delete(nodeId);
      end(listener.call, sessionEnded(nodeId));
    }
    for (const c of [...this.calls.values()])
      if (c.nodeId === nodeId && c.sessionId === sessionId) c.fail(sessionEnded(nodeId));
  }

  /** Ends every call and listener (this manager stops). Idempotent. */
  close(): void {
    this.stopWatching();
    const stopping = new UnavailableError("this manager is stopping");
    for (const c of [...this.calls.values()]) c.fail(stopping);
    for (const l of this.listeners.values()) end(l.call, stopping);
    this.listeners.clear();
    this.forward.close();
  }
}
