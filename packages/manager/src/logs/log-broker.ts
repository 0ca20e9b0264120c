// The leader's log broker (SwarmKit's LogBroker): clients subscribe (SubscribeLogs), agents listen
// for subscriptions (ListenSubscriptions) and publish lines for them (PublishLogs). A subscription
// goes to the listening agents of the nodes that can have its lines (those of its tasks; every
// agent when it follows a service, whose new tasks may start anywhere); each reads its own
// matching containers. The broker holds the lines until every agent has sent its backlog (or
// BACKLOG_WAIT_MS passed), sends them merged in timestamp order, and then, with follow, sends new
// lines in timestamp order every FLUSH_MS (both timed by the injected clock).
// On a follower, SubscribeLogs is forwarded to the leader (once; a forwarded call is not
// forwarded again).
import type * as grpc from "@grpc/grpc-js";
import {
  ErrorCode,
  LogsClient,
  MANAGER_CHANNEL_OPTIONS,
  ShoalError,
  channelCredentials,
  componentLogger,
  every,
  fromServiceError,
  newId,
  toServiceError,
  type Clock,
  type ListenSubscriptionsRequest,
  type ListenSubscriptionsResponse,
  type LogMessage,
  type Logger,
  type LogsServer,
  type PublishLogsRequest,
  type PublishLogsResponse,
  type SubscribeLogsRequest,
  type SubscribeLogsResponse,
  type Timer,
  type TlsMaterial,
} from "@shoal/shared";
import { callerOf, forwardedMetadata, isForwarded } from "../auth/caller.js";
import { mergeByTime } from "./log-merge.js";

/** Longest wait for agents' backlogs before sending what came. */
const BACKLOG_WAIT_MS = 5000;
/** With follow, new lines are sorted and sent this often. */
const FLUSH_MS = 200;
/** Lines held per subscription at most; more are dropped (and counted) until the next flush. */
const MAX_BUFFERED = 200_000;
const BATCH = 500;

export interface LogBrokerOptions {
  readonly logger: Logger;
  /** Times the wait for backlogs and the flushes of followed subscriptions. */
  readonly clock: Clock;
  /** This manager's certificate, to forward subscriptions to the leader. */
  readonly material: TlsMaterial;
  isLeader(): boolean;
  leaderAddr(): string | undefined;
  /**
   * The nodes whose agents can have lines for a subscription, or undefined: every agent. Without
   * it, every subscription goes to every agent.
   */
  nodesFor?(request: SubscribeLogsRequest): ReadonlySet<string> | undefined;
}

type AgentStream = grpc.ServerWritableStream<ListenSubscriptionsRequest, ListenSubscriptionsResponse>;

class Subscription {
  readonly waiting = new Set<string>();
  buffered: LogMessage[] = [];
  dropped = 0;
  live = false;
  /** The backlog wait, then (with follow) the flush interval. */
  private timer: Timer | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    readonly request: SubscribeLogsRequest,
    /** The nodes it goes to; undefined: every agent, those that listen later too. */
    readonly targets: ReadonlySet<string> | undefined,
    private readonly call: grpc.ServerWritableStream<SubscribeLogsRequest, SubscribeLogsResponse>,
    private readonly clock: Clock,
    private readonly onEnd: () => void,
  ) {}

  get follow(): boolean {
    return this.request.options?.follow ?? false;
  }

  start(agents: readonly string[]): void {
    for (const a of agents) this.waiting.add(a);
    this.timer = this.clock.setTimeout(() => this.backlogDone(), BACKLOG_WAIT_MS);
    if (this.waiting.size === 0) this.backlogDone();
  }

  add(messages: readonly LogMessage[]): void {
    const room = MAX_BUFFERED - this.buffered.length;
    if (messages.length > room) this.dropped += messages.length - Math.max(room, 0);
    if (room > 0) this.buffered.push(...messages.slice(0, room));
  }

  /** The agent on `node` has sent its backlog (or went away). */
  agentDone(node: string): void {
    if (this.waiting.delete(node) && this.waiting.size === 0 && !this.live) this.backlogDone();
  }

  private backlogDone(): void {
    if (this.live || this.closed) return;
    this.timer?.cancel();
    this.live = true;
    this.flush();
    if (!this.follow) {
      this.end();
      return;
    }
    this.timer = every(this.clock, FLUSH_MS, () => this.flush());
  }

  private flush(): void {
    if (this.buffered.length === 0) return;
    const lines = mergeByTime(this.buffered);
    this.buffered = [];
    for (let i = 0; i < lines.length; i += BATCH) this.call.write({ messages: lines.slice(i, i + BATCH) });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.call.end();
    this.onEnd();
  }

  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.onEnd();
  }
}

export class LogBroker {
  private readonly logger: Logger;
  private readonly agents = new Map<string, AgentStream>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly clients = new Map<string, LogsClient>();

  constructor(private readonly options: LogBrokerOptions) {
    this.logger = componentLogger(options.logger, "log-broker");
  }

  handlers(): LogsServer {
    return {
      subscribeLogs: (call) => this.subscribe(call),
      listenSubscriptions: (call) => this.listen(call),
      publishLogs: (call, callback) => this.publish(call, callback),
    };
  }

  private subscribe(call: grpc.ServerWritableStream<SubscribeLogsRequest, SubscribeLogsResponse>): void {
    if (!this.options.isLeader()) {
      this.forward(call);
      return;
    }
    const id = newId();
    const targets = this.options.nodesFor?.(call.request);
    const agents = (): [string, AgentStream][] =>
      [...this.agents].filter(([node]) => targets === undefined || targets.has(node));
    const sub = new Subscription(id, call.request, targets, call, this.options.clock, () => {
      this.subscriptions.delete(id);
      if (sub.dropped > 0) this.logger.warn({ subscription: id, dropped: sub.dropped }, "log lines dropped");
      for (const [, agent] of agents())
        agent.write({ subscription: { id, selector: undefined, options: undefined, close: true } });
    });
    this.subscriptions.set(id, sub);
    call.once("cancelled", () => sub.cancel());
    call.once("close", () => sub.cancel());
    const reached = agents();
    for (const [, agent] of reached) {
      agent.write({
        subscription: { id, selector: call.request.selector, options: call.request.options, close: false },
      });
    }
    sub.start(reached.map(([node]) => node));
  }

  private forward(call: grpc.ServerWritableStream<SubscribeLogsRequest, SubscribeLogsResponse>): void {
    const leader = this.options.leaderAddr();
    if (!leader || isForwarded(call.metadata)) {
      call.destroy(toServiceError(new ShoalError(ErrorCode.NotLeader, "no leader to serve logs")) as Error);
      return;
    }
    let client = this.clients.get(leader);
    if (!client) {
      client = new LogsClient(leader, channelCredentials(this.options.material), MANAGER_CHANNEL_OPTIONS);
      this.clients.set(leader, client);
    }
    const upstream = client.subscribeLogs(call.request, forwardedMetadata(callerOf(call.metadata)));
    call.once("cancelled", () => upstream.cancel());
    upstream.on("data", (res: SubscribeLogsResponse) => call.write(res));
    upstream.once("end", () => call.end());
    upstream.once("error", (err) => {
      if (!call.cancelled) call.destroy(toServiceError(fromServiceError(err)) as Error);
    });
  }

  private listen(call: AgentStream): void {
    // The node is the caller's certificate's, never the request's.
    const node = callerOf(call.metadata)?.nodeId ?? "";
    if (!this.options.isLeader() || node === "") {
      call.destroy(
        toServiceError(new ShoalError(ErrorCode.NotLeader, "log subscriptions are served by the leader")) as Error,
      );
      return;
    }
    this.agents.get(node)?.end();
    this.agents.set(node, call);
    this.logger.debug({ node }, "agent listens for log subscriptions");
    // Subscriptions that follow reach agents that come later too.
    for (const sub of this.subscriptions.values()) {
      if (sub.follow && (sub.targets === undefined || sub.targets.has(node))) {
        call.write({
          subscription: { id: sub.id, selector: sub.request.selector, options: sub.request.options, close: false },
        });
      }
    }
    const gone = (): void => {
      if (this.agents.get(node) === call) this.agents.delete(node);
      for (const sub of this.subscriptions.values()) sub.agentDone(node);
    };
    call.once("cancelled", gone);
    call.once("close", gone);
  }

  private publish(
    call: grpc.ServerReadableStream<PublishLogsRequest, PublishLogsResponse>,
    callback: grpc.sendUnaryData<PublishLogsResponse>,
  ): void {
    const node = callerOf(call.metadata)?.nodeId ?? "";
    call.on("data", (req: PublishLogsRequest) => {
      const sub = this.subscriptions.get(req.subscriptionId);
      if (!sub) return;
      if (req.error !== "") this.logger.debug({ node, err: req.error }, "an agent could not read some logs");
      sub.add(req.messages);
      if (req.caughtUp || req.close) sub.agentDone(node);
    });
    call.once("end", () => callback(null, {}));
    call.once("error", () => undefined);
  }

  /** Ends every subscription and agent stream (this manager stops, or stops leading). Idempotent. */
  close(): void {
    for (const sub of [...this.subscriptions.values()]) sub.end();
    for (const agent of this.agents.values()) agent.end();
    this.agents.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
