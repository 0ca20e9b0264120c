// The agent's worker over the wire: a stub dispatcher (a real gRPC server) serves a session,
// heartbeats, assignments (the full set, then changes) and records the status updates; the agent
// runs the tasks on a fake executor and reports them, fails over to another manager and
// reconciles there, and a restarted agent adopts its containers.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AssignmentAction,
  AssignmentsType,
  DispatcherService,
  Node,
  Task,
  TaskState,
  durationFromMs,
  newId,
  silentLogger,
  type AssignmentChange,
  type AssignmentsRequest,
  type AssignmentsResponse,
  type DispatcherServer,
  type TaskStatus,
} from "@shoal/shared";
import { Agent, FakeExecutor } from "@shoal/agent";

class StubDispatcher {
  readonly statuses = new Map<string, TaskStatus[]>();
  sessions = 0;
  assignmentCalls = 0;
  private readonly streams: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse>[] = [];
  private resultsIn = "";
  server = new grpc.Server();
  addr = "";

  constructor(private tasks: Task[]) {}

  async listen(): Promise<this> {
    this.server.addService(DispatcherService, this.handlers());
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.addr = `127.0.0.1:${port}`;
    return this;
  }

  /** Sends changes to every open assignments stream, and keeps the set for the next one. */
  push(changes: AssignmentChange[]): void {
    for (const change of changes) {
      this.tasks = this.tasks.filter((t) => t.id !== change.task!.id);
      if (change.action === AssignmentAction.UPDATE) this.tasks.push(change.task!);
    }
    const appliesTo = this.resultsIn;
    this.resultsIn = newId();
    for (const s of this.streams) {
      s.write({ type: AssignmentsType.INCREMENTAL, appliesTo, resultsIn: this.resultsIn, changes });
    }
  }

  /** Sends a message as is (e.g. one that does not follow the set the agent holds). */
  pushRaw(message: AssignmentsResponse): void {
    for (const s of this.streams) s.write(message);
  }

  /** Ends the assignments streams cleanly, as a dispatcher that lost track of what it sent does. */
  endStreams(): void {
    for (const s of this.streams.splice(0)) s.end();
  }

  last(taskId: string): TaskStatus | undefined {
    return this.statuses.get(taskId)?.at(-1);
  }

  stop(): void {
    this.server.forceShutdown();
  }

  private handlers(): DispatcherServer {
    return {
      session: (call) => {
        this.sessions++;
        call.write({
          sessionId: newId(),
          node: Node.fromPartial({ id: "node-1" }),
          managers: [],
          rootCaDigest: "",
          renewCertificate: false,
          imagePull: undefined,
        });
      },
      heartbeat: (_call, callback) => callback(null, { period: durationFromMs(200) }),
      assignments: (call) => {
        this.assignmentCalls++;
        this.streams.push(call);
        call.on("cancelled", () => this.streams.splice(this.streams.indexOf(call), 1));
        this.resultsIn = newId();
        call.write({
          type: AssignmentsType.COMPLETE,
          appliesTo: "",
          resultsIn: this.resultsIn,
          changes: this.tasks.map((task) => ({
            action: AssignmentAction.UPDATE,
            secret: undefined,
            config: undefined,
            network: undefined,
            task,
          })),
        });
      },
      updateTaskStatus: (call, callback) => {
        for (const u of call.request.updates) {
          const list = this.statuses.get(u.taskId) ?? [];
          list.push(u.status!);
          this.statuses.set(u.taskId, list);
        }
        callback(null, {});
      },
      reportImagePull: (call, callback) => {
        call.resume();
        call.once("end", () => callback(null, {}));
      },
    };
  }
}

function assigned(slot: number, overrides: Partial<Task> = {}): Task {
  return Task.fromPartial({
    id: newId(),
    serviceId: "svc1",
    slot,
    nodeId: "node-1",
    serviceAnnotations: { name: "web" },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: { container: { image: "shoal-base:1" } },
    ...overrides,
  });
}

const stubs: StubDispatcher[] = [];
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const s of stubs.splice(0)) s.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function stub(tasks: Task[]): Promise<StubDispatcher> {
  const s = await new StubDispatcher(tasks).listen();
  stubs.push(s);
  return s;
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-agent-"));
  dirs.push(dir);
  return dir;
}

/** The ids in the agent's tasks.json; none while it has not been written. */
async function savedTaskIds(dir: string): Promise<string[]> {
  try {
    const saved = JSON.parse(await readFile(join(dir, "tasks.json"), "utf8")) as { tasks: { id: string }[] };
    return saved.tasks.map((t) => t.id);
  } catch {
    return [];
  }
}

/** Runs an agent until the returned function is called (or the test ends). */
function startAgent(managers: string[], executor: FakeExecutor, dir: string): () => Promise<void> {
  // The fake dispatcher here serves without TLS.
  const agent = new Agent({
    managers,
    executor,
    dataDir: dir,
    logger: silentLogger(),
    insecureCredentials: grpc.credentials.createInsecure(),
  });
  const controller = new AbortController();
  const running = agent.run(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await running;
  };
  stops.push(stop);
  return stop;
}

describe("agent worker over gRPC", () => {
  it("runs its assignments, reports them, and follows changes", async () => {
    const a = assigned(1);
    const manager = await stub([a]);
    const fake = new FakeExecutor();
    const dir = await dataDir();
    startAgent([manager.addr], fake, dir);

    await expect.poll(() => manager.last(a.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    expect(manager.last(a.id)?.containerStatus?.containerId).toBe(fake.containers.get(a.id)!.containerId);
    // The agent saves its tasks soon after a change, beside running them (not before): wait for it.
    await expect.poll(() => savedTaskIds(dir), { timeout: 5000 }).toEqual([a.id]);

    // A second task arrives, the first is asked to shut down.
    const b = assigned(2);
    manager.push([
      { action: AssignmentAction.UPDATE, secret: undefined, config: undefined, network: undefined, task: b },
      {
        action: AssignmentAction.UPDATE,
        secret: undefined,
        config: undefined,
        network: undefined,
        task: { ...a, desiredState: TaskState.SHUTDOWN },
      },
    ]);
    await expect.poll(() => manager.last(a.id)?.state, { timeout: 5000 }).toBe(TaskState.SHUTDOWN);
    await expect.poll(() => manager.last(b.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    expect(fake.containers.get(a.id)!.state).toBe("exited");

    // The manager forgets the first: its container goes.
    manager.push([
      { action: AssignmentAction.REMOVE, secret: undefined, config: undefined, network: undefined, task: a },
    ]);
    await expect.poll(() => fake.containers.has(a.id), { timeout: 5000 }).toBe(false);
    expect(fake.containers.get(b.id)!.state).toBe("running");
  });

  it("fails over to another manager, re-reports every status and drops what is no longer assigned", async () => {
    const a = assigned(1);
    const b = assigned(2);
    const first = await stub([a, b]);
    const fake = new FakeExecutor();
    const second = await stub([]);
    startAgent([first.addr, second.addr], fake, await dataDir());
    await expect.poll(() => first.last(b.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    await expect.poll(() => first.last(a.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);

    // The new leader knows b (as RUNNING) and no longer a.
    second.push([
      {
        action: AssignmentAction.UPDATE,
        secret: undefined,
        config: undefined,
        network: undefined,
        task: { ...b, status: first.last(b.id) },
      },
    ]);
    first.stop();
    // b did not change, yet its status is sent again to the new manager.
    await expect.poll(() => second.last(b.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    await expect.poll(() => fake.containers.has(a.id), { timeout: 5000 }).toBe(false);
    expect(fake.containers.get(b.id)!.starts).toBe(1);
    expect(fake.containers.get(b.id)!.state).toBe("running");
  });

  it("opens the assignments stream again when it ends or a change does not follow the set held", async () => {
    const a = assigned(1);
    const manager = await stub([a]);
    const fake = new FakeExecutor();
    startAgent([manager.addr], fake, await dataDir());
    await expect.poll(() => manager.last(a.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);

    // A change to a set the agent does not hold is not applied; the full set comes again.
    const b = assigned(2);
    manager.pushRaw({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "some-other-set",
      resultsIn: newId(),
      changes: [{ action: AssignmentAction.UPDATE, secret: undefined, config: undefined, network: undefined, task: b }],
    });
    await expect.poll(() => manager.assignmentCalls, { timeout: 5000 }).toBe(2);
    expect(fake.containers.has(b.id)).toBe(false);

    // A clean end: the same session reads the stream again, and nothing restarts.
    const c = assigned(3);
    manager.push([
      { action: AssignmentAction.UPDATE, secret: undefined, config: undefined, network: undefined, task: c },
    ]);
    await expect.poll(() => manager.last(c.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    manager.endStreams();
    await expect.poll(() => manager.assignmentCalls, { timeout: 5000 }).toBe(3);
    expect(manager.sessions).toBe(1);
    expect(fake.containers.get(a.id)!.starts).toBe(1);
    expect(fake.containers.get(c.id)!.starts).toBe(1);
  });

  it("a restarted agent adopts its running container instead of starting another", async () => {
    const a = assigned(1);
    const manager = await stub([a]); // the manager's copy stays ASSIGNED
    const fake = new FakeExecutor();
    const dir = await dataDir();
    const stopFirst = startAgent([manager.addr], fake, dir);
    await expect.poll(() => manager.last(a.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    await stopFirst();
    expect(fake.containers.get(a.id)!.state).toBe("running");
    const reports = manager.statuses.get(a.id)!.length;

    startAgent([manager.addr], fake, dir);
    await expect.poll(() => manager.sessions, { timeout: 5000 }).toBe(2);
    await expect.poll(() => manager.statuses.get(a.id)!.length, { timeout: 5000 }).toBeGreaterThan(reports);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(manager.last(a.id)?.state).toBe(TaskState.RUNNING);
    expect(fake.containers.get(a.id)!.starts).toBe(1);
    expect(fake.containers.size).toBe(1);
  });
});
