// Image pulls through the dispatcher over a real gRPC socket: the leader asks each ready node's
// agent on its session, the agents (here raw clients) report, and the caller reads the nodes asked
// and each node's lines and outcome; nodes that cannot be asked, go away or stay silent are
// answered for too, so that every pull ends. An inspection rides the same way (inspect_only).
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  DispatcherClient,
  DispatcherService,
  ErrorCode,
  ManualClock,
  Node,
  NodeRole,
  NodeState,
  RegistryAuth,
  durationToMs,
  silentLogger,
  type ImagePull,
  type ImagePullLine,
  type PullImageResponse,
  type ReportImagePullRequest,
  type SessionResponse,
} from "@shoal/shared";
import { Dispatcher, MemoryStore } from "@shoal/manager";
import { ANSWER_GRACE_MS, type ImagePullOrder } from "../../src/dispatcher/image-pulls.js";

const CALLER = "x-test-node-id";

interface Agent {
  readonly nodeId: string;
  readonly sessionId: string;
  /** The pulls asked of this agent, in order. */
  readonly asked: ImagePull[];
  readonly session: grpc.ClientReadableStream<SessionResponse>;
  /** Sends these reports on one ReportImagePull stream and ends it; resolves with the answer. */
  report(reports: Partial<ReportImagePullRequest>[], end?: boolean): Promise<grpc.ServiceError | null>;
}

interface Setup {
  clock: ManualClock;
  store: MemoryStore;
  dispatcher: Dispatcher;
  addr: string;
  agent(hostname: string, imagePulls?: boolean, imageInspects?: boolean): Promise<Agent>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function start(): Promise<Setup> {
  const clock = new ManualClock(1_000_000);
  const store = new MemoryStore({ clock });
  const dispatcher = new Dispatcher({
    store,
    clock,
    logger: silentLogger(),
    // No heartbeats here: nodes stay up while the clock moves.
    heartbeatPeriodMs: 3_600_000,
    isLeader: () => true,
    leaderAddr: () => undefined,
    managers: () => [],
    nodeIdOf: (metadata) => {
      const v = metadata.get(CALLER)[0];
      return typeof v === "string" && v !== "" ? v : undefined;
    },
  });
  dispatcher.setLeader(true);
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.handlers());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  cleanups.push(() => {
    dispatcher.stop();
    server.forceShutdown();
    store.close();
  });
  const addr = `127.0.0.1:${port}`;
  const agent = async (hostname: string, imagePulls = true, imageInspects = imagePulls): Promise<Agent> => {
    const nodeId = `node-${hostname}`;
    await store.update((tx) =>
      tx.nodes.create(Node.fromPartial({ id: nodeId, role: NodeRole.WORKER, spec: { desiredRole: NodeRole.WORKER } })),
    );
    const client = new DispatcherClient(addr, grpc.credentials.createInsecure(), {
      interceptors: [
        (options, next) =>
          new grpc.InterceptingCall(next(options), {
            start: (metadata, listener, proceed) => {
              metadata.set(CALLER, nodeId);
              proceed(metadata, listener);
            },
          }),
      ],
    });
    const description = {
      hostname,
      platform: undefined,
      resources: undefined,
      engine: undefined,
      dataPathAddr: "",
      networkDataPlane: false,
    };
    const session = client.session({
      description,
      nodeId: "",
      sessionId: "",
      joinToken: "",
      imagePulls,
      imageInspects,
    });
    session.on("error", () => undefined);
    const asked: ImagePull[] = [];
    const first = await new Promise<SessionResponse>((resolve) => session.once("data", resolve));
    session.on("data", (m: SessionResponse) => {
      if (m.imagePull) asked.push(m.imagePull);
    });
    cleanups.push(() => {
      session.cancel();
      client.close();
    });
    return {
      nodeId,
      sessionId: first.sessionId,
      asked,
      session,
      report: (reports, end = true) =>
        new Promise((resolve) => {
          const stream = client.reportImagePull((err) => resolve(err));
          for (const r of reports) {
            stream.write({
              sessionId: first.sessionId,
              pullId: "",
              lines: [],
              done: false,
              error: "",
              imageJson: "",
              ...r,
            });
          }
          if (end) stream.end();
        }),
    };
  };
  return { clock, store, dispatcher, addr, agent };
}

const order = (image = "registry:5000/app:1", timeoutMs = 60_000): ImagePullOrder => ({
  image,
  auth: RegistryAuth.fromPartial({ username: "u", password: "p" }),
  platform: "",
  timeoutMs,
});

const line = (status: string, id = ""): ImagePullLine => ({ status, id, progress: "", current: 0, total: 0 });

/** Reads the pull's messages in the background. */
function collect(messages: AsyncIterable<PullImageResponse>): { got: PullImageResponse[]; done: Promise<void> } {
  const got: PullImageResponse[] = [];
  const done = (async () => {
    for await (const m of messages) got.push(m);
  })();
  return { got, done };
}

const outcomes = (got: PullImageResponse[]): Record<string, string> =>
  Object.fromEntries(got.filter((m) => m.done).map((m) => [m.node!.hostname, m.error]));

describe("image pulls through the dispatcher", () => {
  it("asks every ready node's agent on its session, and streams each node's lines and outcome", async () => {
    const s = await start();
    const a = await s.agent("a");
    const b = await s.agent("b");
    const { got, done } = collect(s.dispatcher.imagePulls.pull(order(), new AbortController().signal));
    await expect.poll(() => a.asked.length + b.asked.length).toBe(2);
    const pull = a.asked[0]!;
    expect(pull).toMatchObject({ image: "registry:5000/app:1", auth: { username: "u", password: "p" } });
    expect(durationToMs(pull.timeout, 0)).toBe(60_000);
    expect(b.asked[0]!.id).toBe(pull.id);
    expect(
      await a.report([
        { pullId: pull.id, lines: [line("Pulling from app", "1")] },
        { pullId: pull.id, lines: [line("Status: Downloaded newer image for registry:5000/app:1")], done: true },
      ]),
    ).toBeNull();
    await b.report([{ pullId: pull.id, done: true, error: "pulling image registry:5000/app:1: manifest unknown" }]);
    await done;
    expect(got[0]!.nodes.map((n) => n.hostname).sort()).toEqual(["a", "b"]);
    expect(got.filter((m) => m.node?.hostname === "a").map((m) => [m.lines.map((l) => l.status), m.done])).toEqual([
      [["Pulling from app"], false],
      [["Status: Downloaded newer image for registry:5000/app:1"], true],
    ]);
    expect(outcomes(got)).toEqual({ a: "", b: "pulling image registry:5000/app:1: manifest unknown" });
  });

  it("answers at once for a ready node that cannot be asked: no session, or an agent that does not pull", async () => {
    const s = await start();
    await s.agent("old", false);
    await s.store.update((tx) =>
      tx.nodes.create(
        Node.fromPartial({
          id: "node-gone",
          description: { hostname: "gone" },
          status: { state: NodeState.READY },
        }),
      ),
    );
    const { got, done } = collect(s.dispatcher.imagePulls.pull(order(), new AbortController().signal));
    await done;
    expect(outcomes(got)).toEqual({
      old: "the node's agent does not pull images on request (upgrade it)",
      gone: "the node has no open session with the leader",
    });
  });

  it("gives up a silent node after the timeout and the grace, and a node whose session ends", async () => {
    const s = await start();
    const silent = await s.agent("silent");
    const leaving = await s.agent("leaving");
    const { got, done } = collect(s.dispatcher.imagePulls.pull(order("app:1", 10_000), new AbortController().signal));
    await expect.poll(() => silent.asked.length + leaving.asked.length).toBe(2);
    leaving.session.cancel();
    await expect.poll(() => outcomes(got)).toEqual({ leaving: "the node's session ended before it answered" });
    s.clock.advance(10_000 + ANSWER_GRACE_MS - 1);
    expect(Object.keys(outcomes(got))).toEqual(["leaving"]);
    s.clock.advance(1);
    await done;
    expect(outcomes(got)["silent"]).toBe("no answer from the node within 15 s");
  });

  it("tells an agent that nobody waits any more, once the caller went away", async () => {
    const s = await start();
    const a = await s.agent("a");
    const stop = new AbortController();
    const { done } = collect(s.dispatcher.imagePulls.pull(order(), stop.signal));
    await expect.poll(() => a.asked.length).toBe(1);
    stop.abort();
    await done;
    const err = await a.report([{ pullId: a.asked[0]!.id, lines: [line("Downloading", "l1")] }], false);
    expect(err).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it("takes a node's reports only from its own session, and fails a node whose report breaks off", async () => {
    const s = await start();
    const a = await s.agent("a");
    const b = await s.agent("b");
    const { got, done } = collect(s.dispatcher.imagePulls.pull(order(), new AbortController().signal));
    await expect.poll(() => a.asked.length + b.asked.length).toBe(2);
    const pullId = a.asked[0]!.id;
    // b sends a's session id: refused, and a is still waited for.
    const forged = await b.report([{ sessionId: a.sessionId, pullId, done: true }]);
    expect(forged).toMatchObject({ code: grpc.status.NOT_FOUND });
    await b.report([{ pullId, done: true }]);
    // a's report ends without an outcome.
    expect(await a.report([{ pullId, lines: [line("Downloading", "l1")] }])).toBeNull();
    await done;
    expect(outcomes(got)).toEqual({ b: "", a: "the agent ended its report before the pull ended" });
  });

  it("refuses when not leading or when no node is ready, and ends pulls when leadership is lost", async () => {
    const s = await start();
    expect(() => s.dispatcher.imagePulls.pull(order(), new AbortController().signal)).toThrow(
      expect.objectContaining({ code: ErrorCode.FailedPrecondition }) as Error,
    );
    const a = await s.agent("a");
    const { got, done } = collect(s.dispatcher.imagePulls.pull(order(), new AbortController().signal));
    await expect.poll(() => a.asked.length).toBe(1);
    s.dispatcher.setLeader(false);
    await done;
    expect(outcomes(got)).toEqual({ a: "this manager is no longer the leader" });
    expect(() => s.dispatcher.imagePulls.pull(order(), new AbortController().signal)).toThrow(
      expect.objectContaining({ code: ErrorCode.NotLeader }) as Error,
    );
  });
});

describe("image inspections through the dispatcher", () => {
  it("asks every ready node to inspect, not pull, and answers each node's JSON by node id", async () => {
    const s = await start();
    const b = await s.agent("b");
    const a = await s.agent("a");
    const old = await s.agent("old", true, false);
    const answer = s.dispatcher.imagePulls.inspect({ image: "app:1", timeoutMs: 10_000 }, new AbortController().signal);
    await expect.poll(() => a.asked.length + b.asked.length).toBe(2);
    expect(old.asked).toEqual([]);
    const ask = a.asked[0]!;
    expect(ask).toMatchObject({ image: "app:1", auth: undefined, platform: "", inspectOnly: true });
    expect(durationToMs(ask.timeout, 0)).toBe(10_000);
    await b.report([{ pullId: ask.id, done: true, imageJson: '{"Id":"sha256:b"}' }]);
    await a.report([{ pullId: ask.id, done: true }]);
    const { nodes } = await answer;
    expect(nodes.map((n) => [n.node?.nodeId, n.imageJson, n.error])).toEqual([
      ["node-a", "", ""],
      ["node-b", '{"Id":"sha256:b"}', ""],
      ["node-old", "", "the node's agent does not inspect images on request (upgrade it)"],
    ]);
  });

  it("refuses when no node is ready", async () => {
    const s = await start();
    const inspecting = s.dispatcher.imagePulls.inspect(
      { image: "app:1", timeoutMs: 1000 },
      new AbortController().signal,
    );
    await expect(inspecting).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
  });
});
