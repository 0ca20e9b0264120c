// Container calls across three managers in one process over mutual TLS: a fake agent (a real
// dispatcher session with a worker certificate, and a container-call listener on it that echoes
// an exec's stdin) runs a task; clients call a follower, which forwards to the leader, which
// hands the call to the agent. Checked as a user would: the output and exit code, the EXEC event
// on another follower's `shoal events`, who is refused, a lost session, and a cancelled client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssignmentAction,
  ContainerOp,
  ContainersClient,
  ErrorCode,
  EventType,
  EventsClient,
  MANAGER_CHANNEL_OPTIONS,
  ServiceSpec,
  TaskState,
  TaskStatus,
  channelCredentials,
  joinCluster,
  silentLogger,
  type ContainerCallOpen,
  type ContainerCallResponse,
  type Event,
  type JoinResult,
  type ServeContainerCallResponse,
  type ShoalError,
} from "@shoal/shared";
import { FakeExecutor, runSession, type SessionLink } from "@shoal/agent";
import { LoopbackContainerCalls, Manager } from "@shoal/manager";
import { TestControl, testClientCredentials, useClientCertDir } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { waitUntil } from "../e2e/support/wait.js";

const CONTAINER = "c0ffee0123456789";
let root = "";
const managers: Manager[] = [];
const control = new TestControl();
const closers: (() => void)[] = [];

async function startManager(name: string, joinAddr?: string): Promise<Manager> {
  const m = new Manager({
    listen: "127.0.0.1:0",
    dataDir: `${root}/${name}`,
    logger: silentLogger(),
    ...(joinAddr ? { join: joinAddr, joinToken: (await joinTokens(control, joinAddr)).manager } : {}),
    raft: { tickMs: 20 },
  });
  await m.start();
  if (!joinAddr) useClientCertDir(`${root}/${name}/client`);
  managers.push(m);
  return m;
}

const leader = (): Manager => managers.find((m) => m.raft?.isLeader)!;
const followers = (): Manager[] => managers.filter((m) => !m.raft?.isLeader);

/** A node's agent as far as container calls go: it echoes an exec's stdin and exits 0 at its end. */
class FakeAgent {
  readonly stop = new AbortController();
  /** How each ServeContainerCall of the agent ended (its status code), by call id. */
  readonly ended = new Map<string, grpc.status>();
  private link: SessionLink | undefined;
  private client: ContainersClient | undefined;

  constructor(readonly joined: JoinResult) {}

  get nodeId(): string {
    return this.joined.nodeId;
  }

  run(): void {
    const credentials = channelCredentials(this.joined.material);
    const executor = new FakeExecutor();
    void runSession(
      {
        managers: [leader().address],
        logger: silentLogger(),
        channel: { credentials, options: MANAGER_CHANNEL_OPTIONS },
        describe: (signal) => executor.describe(signal),
        onSession: (_node, manager, link) => {
          this.link = link;
          this.client ??= new ContainersClient(manager, credentials, MANAGER_CHANNEL_OPTIONS);
          const listener = this.client.listenContainerCalls({ nodeId: this.nodeId, sessionId: link.sessionId });
          listener.on("data", (res: { callId: string; open?: ContainerCallOpen }) => this.serve(res.callId));
          listener.on("error", () => undefined);
          link.signal.addEventListener("abort", () => listener.cancel());
        },
        onAssignments: async (message) => {
          const running = message.changes
            .filter((c) => c.action === AssignmentAction.UPDATE && c.task?.desiredState === TaskState.RUNNING)
            .map((c) => ({
              taskId: c.task!.id,
              status: TaskStatus.fromPartial({
                state: TaskState.RUNNING,
                message: "started",
                containerStatus: { containerId: CONTAINER, pid: 1, exitCode: 0 },
              }),
            }));
          if (running.length > 0) await this.link?.updateTaskStatus(running);
        },
      },
      this.stop.signal,
    ).catch(() => undefined);
  }

  private serve(callId: string): void {
    // Its own call, not the session's: it ends when the manager ends it.
    const call = this.client!.serveContainerCall();
    const out = (output: ContainerCallResponse["output"]): boolean => call.write({ callId: "", output: { output } });
    call.write({ callId, output: undefined });
    out({ $case: "started", value: { taskId: "", nodeId: "", containerId: "", serviceId: "", execId: "exec-1" } });
    call.on("data", (res: ServeContainerCallResponse) => {
      const input = res.input?.input;
      if (input?.$case === "stdin") out({ $case: "data", value: { stream: 1, data: input.value } });
      if (input?.$case === "closeStdin") {
        out({ $case: "exit", value: { exitCode: 0 } });
        call.end();
      }
    });
    call.on("error", () => undefined);
    call.on("status", (s: grpc.StatusObject) => this.ended.set(callId, s.code));
  }

  close(): void {
    this.stop.abort();
    this.client?.close();
  }
}

let agent: FakeAgent;

const open = (op: ContainerOp, cmd: string[] = [], caller = ""): ContainerCallOpen => ({
  container: "web.1",
  op,
  exec: {
    cmd,
    env: [],
    user: "",
    workingDir: "",
    tty: false,
    attachStdin: true,
    attachStdout: true,
    attachStderr: true,
    privileged: false,
    detachKeys: "",
  },
  attach: undefined,
  top: undefined,
  stats: undefined,
  size: undefined,
  caller,
});

/** A ContainerCall with the credentials given, as a promise of its answers (or its refusal). */
function call(addr: string, credentials: grpc.ChannelCredentials, first: ContainerCallOpen) {
  const client = new ContainersClient(addr, credentials, MANAGER_CHANNEL_OPTIONS);
  closers.push(() => client.close());
  const duplex = client.containerCall();
  duplex.write({ input: { $case: "open", value: first } });
  const received: ContainerCallResponse[] = [];
  duplex.on("data", (r: ContainerCallResponse) => received.push(r));
  duplex.on("error", () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => duplex.on("status", resolve));
  return { duplex, received, status };
}

async function execEvents(addr: string): Promise<Event[]> {
  const { credentials, options } = testClientCredentials();
  const client = new EventsClient(addr, credentials, options);
  const events: Event[] = [];
  const stream = client.watchEvents({ types: [EventType.EXEC], since: new Date(0) });
  stream.on("data", (r: { events: Event[] }) => events.push(...r.events));
  stream.on("error", () => undefined);
  await new Promise((r) => setTimeout(r, 300));
  stream.cancel();
  client.close();
  return events;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-broker-calls-"));
  const first = await startManager("a");
  await startManager("b", first.address);
  await startManager("c", first.address);
  await waitUntil("a leader that serves reads", async () => {
    const l = managers.find((m) => m.raft?.isLeader);
    if (!l) return false;
    return control
      .call(l.address, "getCluster", { clusterId: "" }, 2000)
      .then(() => true)
      .catch(() => false);
  });
  const tokens = await joinTokens(control, leader().address);
  agent = new FakeAgent(await joinCluster({ managers: [leader().address], token: tokens.worker }));
  agent.run();
  const spec = ServiceSpec.fromPartial({
    annotations: { name: "web" },
    taskTemplate: { container: { image: "shoal-base:1" } },
    mode: { $case: "replicated", value: { replicas: 1 } },
  });
  await control.call(leader().address, "createService", { spec });
  await waitUntil("web.1 running in its container", async () => {
    const { tasks } = await control.call(leader().address, "listTasks", { filters: undefined });
    return tasks.some((t) => t.status?.containerStatus?.containerId === CONTAINER);
  });
}, 60_000);

afterAll(async () => {
  agent?.close();
  for (const c of closers) c();
  control.close();
  await Promise.all(managers.map((m) => m.stop()));
  await rm(root, { recursive: true, force: true });
});

describe("container calls through the managers", () => {
  it("runs an exec through a follower: output, exit code, and an EXEC event on every manager", async () => {
    const [entry, other] = followers();
    const { credentials } = testClientCredentials();
    const c = call(entry!.address, credentials, open(ContainerOp.EXEC, ["cat"], "not-me"));
    c.duplex.write({ input: { $case: "stdin", value: Buffer.from("hello\n") } });
    c.duplex.write({ input: { $case: "closeStdin", value: true } });
    expect((await c.status).code).toBe(grpc.status.OK);
    expect(c.received.map((r) => r.output)).toEqual([
      {
        $case: "started",
        value: expect.objectContaining({ nodeId: agent.nodeId, containerId: CONTAINER, execId: "exec-1" }),
      },
      { $case: "data", value: { stream: 1, data: Buffer.from("hello\n") } },
      { $case: "exit", value: { exitCode: 0 } },
    ]);
    for (const m of [other!, leader()]) {
      await expect
        .poll(async () =>
          (await execEvents(m.address)).map((e) => [e.name, e.attributes["caller"], e.attributes["cmd"]]),
        )
        .toContainEqual(["web.1", "admin", "cat"]);
    }
  });

  it("takes the caller a manager certificate names (the Docker API's way), and refuses none", async () => {
    const entry = followers()[0]!;
    const calls = new LoopbackContainerCalls(entry.address, entry.tls!);
    closers.push(() => calls.close());
    const session = calls.open(open(ContainerOp.EXEC, ["cat"], "alice"), AbortSignal.timeout(10_000));
    session.write({ $case: "closeStdin", value: true });
    const outputs: string[] = [];
    for await (const r of session.responses) outputs.push(r.output!.$case);
    expect(outputs).toEqual(["started", "exit"]);
    await expect
      .poll(async () => (await execEvents(leader().address)).map((e) => e.attributes["caller"]))
      .toContain("alice");

    const refused = calls.open(open(ContainerOp.EXEC, ["cat"]), AbortSignal.timeout(10_000));
    const err = await (async () => {
      for await (const _ of refused.responses) void _;
    })().catch((e: unknown) => e as ShoalError);
    expect(err).toMatchObject({
      code: ErrorCode.PermissionDenied,
      message: "exec and attach need an admin client certificate",
    });
  });

  it("refuses a worker certificate", async () => {
    const c = call(followers()[0]!.address, channelCredentials(agent.joined.material), open(ContainerOp.INSPECT));
    const status = await c.status;
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toMatch(/a worker certificate may not call shoal\.v1\.Containers\/ContainerCall/);
  });

  it("cancels the agent's side of an exec when its client cancels", async () => {
    const { credentials } = testClientCredentials();
    const c = call(followers()[0]!.address, credentials, open(ContainerOp.EXEC, ["sleep", "100"]));
    await expect.poll(() => c.received.length).toBe(1);
    const before = new Set(agent.ended.keys());
    c.duplex.cancel();
    await expect
      .poll(() => [...agent.ended].filter(([id]) => !before.has(id)).map(([, code]) => code))
      .toEqual([grpc.status.CANCELLED]);
  });

  it("ends an exec with UNAVAILABLE when the agent's session ends", async () => {
    const { credentials } = testClientCredentials();
    const c = call(followers()[0]!.address, credentials, open(ContainerOp.EXEC, ["sleep", "100"]));
    await expect.poll(() => c.received.length).toBe(1);
    agent.stop.abort();
    const status = await c.status;
    expect(status).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: `the agent session of node ${agent.nodeId} ended`,
    });
  });
});
