// The leader's log broker on a manual clock, with stand-ins for the gRPC streams: a subscription
// holds lines until every agent sent its backlog or BACKLOG_WAIT_MS passed, then (with follow)
// sends what came every FLUSH_MS, in timestamp order.
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  LogStream,
  ManualClock,
  silentLogger,
  type LogMessage,
  type LogsServer,
  type SubscribeLogsResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { setCaller } from "../../src/auth/caller.js";
import { LogBroker } from "../../src/logs/log-broker.js";

const line = (seconds: number, text: string): LogMessage => ({
  context: { nodeId: "n1", serviceId: "s", taskId: "t" },
  timestamp: { seconds, nanos: 0 },
  stream: LogStream.STDOUT,
  data: Buffer.from(text),
});

/** A server stream as the handlers see it: what they write is kept. */
class FakeStream<Req> extends EventEmitter {
  readonly metadata = new grpc.Metadata();
  readonly written: unknown[] = [];
  ended = false;
  cancelled = false;

  constructor(readonly request: Req) {
    super();
  }

  write(message: unknown): boolean {
    this.written.push(message);
    return true;
  }

  end(): void {
    this.ended = true;
  }
}

function asNode<T extends FakeStream<unknown>>(stream: T, nodeId: string): T {
  const now = new Date(0);
  setCaller(stream.metadata, {
    nodeId,
    role: "worker",
    clusterId: "c",
    serialNumber: "01",
    notBefore: now,
    notAfter: now,
    issuerKeyId: undefined,
  });
  return stream;
}

function setup() {
  const clock = new ManualClock(1_000_000);
  const broker = new LogBroker({
    logger: silentLogger(),
    clock,
    material: {} as TlsMaterial, // only to forward from a follower
    isLeader: () => true,
    leaderAddr: () => undefined,
  });
  const handlers: LogsServer = broker.handlers();
  const agent = asNode(new FakeStream({}), "n1");
  handlers.listenSubscriptions(agent as never);
  const subscribe = (follow: boolean) => {
    const client = new FakeStream({ selector: undefined, options: { follow } });
    handlers.subscribeLogs(client as never);
    return client;
  };
  const publish = (subscriptionId: string, messages: LogMessage[], caughtUp = false): void => {
    const call = asNode(new FakeStream({}), "n1");
    handlers.publishLogs(call as never, () => undefined);
    call.emit("data", { subscriptionId, messages, caughtUp, close: false, error: "" });
  };
  const texts = (client: FakeStream<unknown>): string[] =>
    (client.written as SubscribeLogsResponse[]).flatMap((r) => r.messages.map((m) => Buffer.from(m.data).toString()));
  const subscriptionId = (): string => (agent.written.at(-1) as { subscription: { id: string } }).subscription.id;
  return { clock, broker, subscribe, publish, texts, subscriptionId };
}

describe("LogBroker", () => {
  it("waits BACKLOG_WAIT_MS for an agent's backlog, then sends followed lines every FLUSH_MS in order", () => {
    const { clock, broker, subscribe, publish, texts, subscriptionId } = setup();
    const client = subscribe(true);
    const id = subscriptionId();
    publish(id, [line(2, "b"), line(1, "a")]);
    clock.advance(4_999);
    expect(texts(client)).toEqual([]);
    clock.advance(1);
    expect(texts(client)).toEqual(["a", "b"]);

    publish(id, [line(4, "d"), line(3, "c")]);
    clock.advance(199);
    expect(texts(client)).toEqual(["a", "b"]);
    clock.advance(1);
    expect(texts(client)).toEqual(["a", "b", "c", "d"]);

    broker.close();
    expect(client.ended).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("sends the backlog as soon as every agent caught up, and ends a subscription that does not follow", () => {
    const { clock, subscribe, publish, texts, subscriptionId } = setup();
    const client = subscribe(false);
    publish(subscriptionId(), [line(1, "a")], true);
    expect(texts(client)).toEqual(["a"]);
    expect(client.ended).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it("cancels its timers when the client goes away", () => {
    const { clock, subscribe } = setup();
    const client = subscribe(true);
    clock.advance(5_000);
    expect(clock.pendingTimers).toBe(1); // the flush interval
    client.emit("cancelled");
    expect(clock.pendingTimers).toBe(0);
  });
});
