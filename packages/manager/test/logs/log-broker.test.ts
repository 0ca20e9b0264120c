// The leader's log broker on a manual clock, with stand-ins for the gRPC streams: a subscription
// holds lines until every agent sent its backlog or BACKLOG_WAIT_MS passed, then (with follow)
// sends what came every FLUSH_MS, in timestamp order.
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import {
  LogStream,
  ManualClock,
  Task,
  silentLogger,
  type LogMessage,
  type LogsServer,
  type SubscribeLogsResponse,
  type TlsMaterial,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { setCaller } from "../../src/auth/caller.js";
import { LogBroker } from "../../src/logs/log-broker.js";
import { logNodes } from "../../src/logs/log-targets.js";
import { MemoryStore } from "../../src/state/store/index.js";

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

describe("LogBroker: which agents a subscription goes to", () => {
  async function twoNodes() {
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.tasks.create(Task.fromPartial({ id: "t1", serviceId: "s1", nodeId: "n2" }));
      tx.tasks.create(Task.fromPartial({ id: "t2", serviceId: "s1", nodeId: "n3" }));
    });
    const broker = new LogBroker({
      logger: silentLogger(),
      clock: new ManualClock(1_000_000),
      material: {} as TlsMaterial,
      isLeader: () => true,
      leaderAddr: () => undefined,
      nodesFor: (request) => logNodes(store, request),
    });
    const handlers = broker.handlers();
    const agents = new Map<string, FakeStream<unknown>>();
    const listen = (node: string): void => {
      const stream = asNode(new FakeStream({}), node);
      agents.set(node, stream);
      handlers.listenSubscriptions(stream as never);
    };
    for (const node of ["n1", "n2"]) listen(node);
    const subscribe = (selector: { serviceIds: string[]; taskIds: string[] }, follow: boolean) => {
      const client = new FakeStream({ selector, options: { follow } });
      handlers.subscribeLogs(client as never);
      return client;
    };
    const reached = (node: string): number => agents.get(node)?.written.length ?? 0;
    return { broker, listen, subscribe, reached };
  }

  it("sends a task's subscription to its node only, also to that node's agent listening later", async () => {
    const { broker, listen, subscribe, reached } = await twoNodes();
    const client = subscribe({ serviceIds: [], taskIds: ["t1"] }, true);
    expect([reached("n1"), reached("n2")]).toEqual([0, 1]);
    listen("n3");
    expect(reached("n3")).toBe(0);
    subscribe({ serviceIds: ["s1"], taskIds: [] }, false); // the nodes of the service's tasks
    expect([reached("n1"), reached("n2"), reached("n3")]).toEqual([0, 2, 1]);
    subscribe({ serviceIds: ["s1"], taskIds: [] }, true); // following a service: every agent
    expect([reached("n1"), reached("n2"), reached("n3")]).toEqual([1, 3, 2]);
    broker.close();
    expect(client.ended).toBe(true);
  });

  it("ends at once a subscription that no node can serve", async () => {
    const { broker, subscribe, reached } = await twoNodes();
    const client = subscribe({ serviceIds: [], taskIds: ["nope"] }, false);
    expect(client.ended).toBe(true);
    expect([reached("n1"), reached("n2")]).toEqual([0, 0]);
    broker.close();
  });
});
