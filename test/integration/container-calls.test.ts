// Container calls across three managers in one process over mutual TLS: a fake agent (a real
// dispatcher session with a worker certificate, and the agent's own container-call listener on
// it, serving with an echo of an exec's stdin) runs a task; clients call a follower, which forwards to the leader, which
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
  type ListenContainerCallsResponse,
  type ShoalError,
} from "@shoal/shared";
import {
  FakeExecutor,
  runContainerCalls,
  runSession,
  type CallChannel,
  type ContainerCallServer,
  type SessionLink,
} from "@shoal/agent";
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

/**
 * A node's agent as far as container calls go: a real dispatcher session and the agent's own
 * container-call listener (runContainerCalls), serving with an echo: an exec's stdin comes back
 * as its output, and it exits 0 at the end of stdin.
 */
class FakeAgent implements ContainerCallServer {
  readonly stop = new AbortController();
  /** Why each call ended on the agent's side (the manager's status), by call id. */
  readonly ended = new Map<string, string>();
  private link: SessionLink | undefined;

  constructor(readonly joined: JoinResult) {}

  get nodeId(): string {
    return this.joined.nodeId;
  }

  run(): void {
    const channel = { credentials: channelCredentials(this.joined.material), options: MANAGER_CHANNEL_OPTIONS };
    const executor = new FakeExecutor();
    void runSession(
      {
        managers: [leader().address],
        logger: silentLogger(),
        channel,
        describe: (signal) => executor.describe(signal),
        onSession: (_node, manager, link) => {
          this.link = link;
          const options = { manager, nodeId: this.nodeId, sessionId: link.sessionId, server: this, channel };
          void runContainerCalls({ ...options, logger: silentLogger() }, link.signal);
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

  async serve(call: ListenContainerCallsResponse, channel: CallChannel): Promise<void> {
    await channel.send({
      $case: "started",
      value: {
        taskId: call.taskId,
        nodeId: this.nodeId,
        containerId: call.containerId,
        serviceId: "",
        execId: "exec-1",
      },
    });
    await new Promise<void>((resolve) => {
      channel.signal.addEventListener("abort", () => {
        this.ended.set(call.callId, channel.reason);
        resolve();
      });
      channel.onInput(async (input) => {
        if (input.$case === "stdin") await channel.send({ $case: "data", value: { stream: 1, data: input.value } });
        if (input.$case === "closeStdin") {
          await channel.send({ $case: "exit", value: { exitCode: 0 } });
          resolve();
        }
      });
    });
  }

  close(): void {
    this.stop.abort();
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
      .poll(() => [...agent.ended].filter(([id]) => !before.has(id)).map(([, why]) => why))
      .toEqual([expect.stringMatching(/CANCELLED: the client cancelled the call/)]);
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
