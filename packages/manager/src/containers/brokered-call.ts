// One container call on the leader: the client's stream and, once the node's agent takes the call
// (ServeContainerCall), the agent's, piped both ways with flow control. The client gets `started`
// first: the agent's own (exec: with the exec id) completed with where the call landed, or the
// manager's, sent before the agent's first other output. An agent `error` ends the client's call
// with that status; the agent ending its stream ends the client's; the client going away ends the
// agent's with CANCELLED (the agent then kills the exec): no call outlives its client.
import type * as grpc from "@grpc/grpc-js";
import {
  ContainerOp,
  ErrorCode,
  ShoalError,
  fromServiceError,
  toServiceError,
  type Clock,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type ContainerCallStarted,
  type ServeContainerCallRequest,
  type ServeContainerCallResponse,
  type Timer,
} from "@shoal/shared";
import type { ContainerTarget } from "./resolve-container.js";

export type ClientStream = grpc.ServerDuplexStream<ContainerCallRequest, ContainerCallResponse>;
export type AgentStream = grpc.ServerDuplexStream<ServeContainerCallRequest, ServeContainerCallResponse>;

/**
 * How long the leader waits, after an agent's stream ends its input without a last answer (an
 * exit, or the one JSON of inspect, top or one stats sample), for the cancel that may follow: an
 * agent that stops cancels its streams, and gRPC may show the end of input first.
 */
export const END_GRACE_MS = 200;

export interface BrokeredCallOptions {
  readonly id: string;
  readonly target: ContainerTarget;
  readonly open: ContainerCallOpen;
  /** The dispatcher session of the agent the call was handed to. */
  readonly sessionId: string;
  readonly client: ClientStream;
  readonly clock: Clock;
  /** Called once, when the call ends either way. */
  onEnd(call: BrokeredCall): void;
  /** The agent's stream broke off (its session may be ending too): the broker ends the call. */
  onAgentGone(call: BrokeredCall): void;
}

export class BrokeredCall {
  readonly id: string;
  readonly target: ContainerTarget;
  readonly sessionId: string;
  private readonly client: ClientStream;
  private agent: AgentStream | undefined;
  private started = false;
  /** The agent sent its last answer: its end is the call's. */
  private answered = false;
  private closed = false;
  private endTimer: Timer | undefined;
  private readonly onClientData = (req: ContainerCallRequest): void => this.toAgent(req);
  private readonly onClientCancel = (): void =>
    this.close(undefined, new ShoalError(ErrorCode.Cancelled, "the client cancelled the call"));

  constructor(private readonly options: BrokeredCallOptions) {
    ({ id: this.id, target: this.target, sessionId: this.sessionId, client: this.client } = options);
    this.client.once("cancelled", this.onClientCancel);
  }

  get nodeId(): string {
    return this.target.nodeId;
  }

  get bound(): boolean {
    return this.agent !== undefined;
  }

  /** The agent took the call: pipe from now on; `first` is its first message. */
  bind(agent: AgentStream, first: ServeContainerCallRequest): void {
    if (this.closed) {
      agent.emit("error", toServiceError(new ShoalError(ErrorCode.Cancelled, "the client cancelled the call")));
      return;
    }
    this.agent = agent;
    if (first.output) this.fromAgent(first.output);
    agent.on("data", (req: ServeContainerCallRequest) => {
      if (req.output) this.fromAgent(req.output);
    });
    agent.once("end", () => {
      if (this.answered) this.finish();
      else this.endTimer = this.options.clock.setTimeout(() => this.finish(), END_GRACE_MS);
    });
    agent.once("cancelled", () => {
      this.endTimer?.cancel();
      if (!this.closed) this.options.onAgentGone(this);
    });
    agent.on("error", () => undefined);
    this.client.on("data", this.onClientData);
    this.client.resume();
  }

  /** Ends the client's call with `err`, and the agent's (if any) with CANCELLED. */
  fail(err: ShoalError): void {
    this.close(err, new ShoalError(ErrorCode.Cancelled, err.message));
  }

  private toAgent(req: ContainerCallRequest): void {
    const agent = this.agent;
    if (!agent || this.closed || req.input === undefined || req.input.$case === "open") return;
    if (!agent.write({ input: req })) {
      this.client.pause();
      agent.once("drain", () => this.client.resume());
    }
  }

  private fromAgent(output: ContainerCallResponse): void {
    const out = output.output;
    if (this.closed || out === undefined) return;
    if (out.$case === "error") {
      const { code, message } = out.value;
      this.close(fromServiceError({ code, details: message }), undefined);
      return;
    }
    if (out.$case === "started") {
      if (this.started) return;
      this.send({ output: { $case: "started", value: this.startedMessage(out.value.execId) } });
      return;
    }
    if (!this.started) this.send({ output: { $case: "started", value: this.startedMessage("") } });
    this.send(output);
    if (out.$case === "exit" || (out.$case === "json" && oneAnswer(this.options.open))) this.answered = true;
  }

  private startedMessage(execId: string): ContainerCallStarted {
    this.started = true;
    const { task, containerId, nodeId, serviceId } = this.target;
    return { taskId: task.id, nodeId, containerId, serviceId, execId };
  }

  private send(res: ContainerCallResponse): void {
    const agent = this.agent;
    if (!this.client.write(res) && agent) {
      agent.pause();
      this.client.once("drain", () => agent.resume());
    }
  }

  /** The agent is done (after `exit`, or a one-shot answer): the client's call ends too. */
  private finish(): void {
    if (this.closed) return;
    if (!this.started) this.send({ output: { $case: "started", value: this.startedMessage("") } });
    this.close(undefined, undefined);
  }

  /** Ends both sides: each with its error, or OK. */
  private close(clientErr: ShoalError | undefined, agentErr: ShoalError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.endTimer?.cancel();
    this.client.off("data", this.onClientData);
    this.client.off("cancelled", this.onClientCancel);
    end(this.client, clientErr);
    if (this.agent) end(this.agent, agentErr);
    this.options.onEnd(this);
  }
}

/** Operations answered with one JSON document. */
function oneAnswer(open: ContainerCallOpen): boolean {
  return (
    open.op === ContainerOp.INSPECT ||
    open.op === ContainerOp.TOP ||
    (open.op === ContainerOp.STATS && !open.stats?.stream)
  );
}

/** What `end` needs of a server stream (duplex or writable). */
interface EndableCall {
  readonly cancelled: boolean;
  readonly writableEnded: boolean;
  emit(event: "error", err: unknown): boolean;
  end(): void;
}

/** Ends a server stream with OK or `err` as its status, unless its peer already went away. */
export function end(call: EndableCall, err: ShoalError | undefined): void {
  if (call.cancelled || call.writableEnded) return;
  if (err) call.emit("error", toServiceError(err));
  else call.end();
}
