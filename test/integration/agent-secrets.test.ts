// Secrets over the wire: a stub dispatcher (a real gRPC server) sends the agent a full set with a
// secret, a config and a task using them, then removes them; the agent hands the data to the
// task's controller (a fake executor) and forgets them, and its whole log, at trace level, holds
// no byte of the secret.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  AssignmentAction,
  AssignmentsType,
  Config,
  DispatcherService,
  Node,
  Secret,
  Task,
  TaskState,
  createLogger,
  durationFromMs,
  newId,
  type AssignmentChange,
  type AssignmentsRequest,
  type AssignmentsResponse,
  type DispatcherServer,
  type TaskStatus,
} from "@shoal/shared";
import { Agent, FakeExecutor } from "@shoal/agent";

const SECRET_BYTES = `wire-secret-${newId()}`;

class StubDispatcher {
  readonly statuses = new Map<string, TaskStatus>();
  private stream: grpc.ServerWritableStream<AssignmentsRequest, AssignmentsResponse> | undefined;
  private resultsIn = "";
  readonly server = new grpc.Server();
  addr = "";

  constructor(private readonly first: AssignmentChange[]) {}

  async listen(): Promise<this> {
    const handlers: DispatcherServer = {
      session: (call) =>
        call.write({
          sessionId: newId(),
          node: Node.fromPartial({ id: "node-1" }),
          managers: [],
          rootCaDigest: "",
          renewCertificate: false,
          imagePull: undefined,
        }),
      heartbeat: (_call, callback) => callback(null, { period: durationFromMs(200) }),
      assignments: (call) => {
        this.stream = call;
        this.resultsIn = newId();
        call.write({ type: AssignmentsType.COMPLETE, appliesTo: "", resultsIn: this.resultsIn, changes: this.first });
      },
      updateTaskStatus: (call, callback) => {
        for (const u of call.request.updates) this.statuses.set(u.taskId, u.status!);
        callback(null, {});
      },
      reportImagePull: (call, callback) => {
        call.resume();
        call.once("end", () => callback(null, {}));
      },
    };
    this.server.addService(DispatcherService, handlers);
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    this.addr = `127.0.0.1:${port}`;
    return this;
  }

  push(changes: AssignmentChange[]): void {
    const appliesTo = this.resultsIn;
    this.resultsIn = newId();
    this.stream?.write({ type: AssignmentsType.INCREMENTAL, appliesTo, resultsIn: this.resultsIn, changes });
  }
}

const change = (action: AssignmentAction, part: Partial<AssignmentChange>): AssignmentChange => ({
  action,
  task: undefined,
  secret: undefined,
  config: undefined,
  network: undefined,
  ...part,
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe("agent: secrets and configs over gRPC", () => {
  it("passes the secret's data to the task's controller, forgets it on REMOVE, and never logs it", async () => {
    const secret = Secret.fromPartial({
      id: "sec1",
      spec: { annotations: { name: "db_password" }, data: Buffer.from(SECRET_BYTES) },
    });
    const config = Config.fromPartial({
      id: "cfg1",
      spec: { annotations: { name: "app.conf" }, data: Buffer.from("x=1") },
    });
    const task = Task.fromPartial({
      id: newId(),
      serviceId: "svc1",
      slot: 1,
      nodeId: "node-1",
      serviceAnnotations: { name: "web" },
      desiredState: TaskState.RUNNING,
      status: { state: TaskState.ASSIGNED },
      spec: {
        container: {
          image: "shoal-base:1",
          secrets: [{ secretId: "sec1", secretName: "db_password", file: { name: "db_password", mode: 0o400 } }],
          configs: [{ configId: "cfg1", configName: "app.conf" }],
        },
      },
    });
    const manager = await new StubDispatcher([
      change(AssignmentAction.UPDATE, { secret }),
      change(AssignmentAction.UPDATE, { config }),
      change(AssignmentAction.UPDATE, { task }),
    ]).listen();
    cleanups.push(() => manager.server.forceShutdown());
    const dir = await mkdtemp(join(tmpdir(), "shoal-agent-secrets-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const lines: string[] = [];
    const logger = createLogger({
      level: "trace",
      pretty: false,
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString("utf8"));
          callback();
        },
      }),
    });
    const fake = new FakeExecutor();
    const agent = new Agent({
      managers: [manager.addr],
      executor: fake,
      dataDir: dir,
      logger,
      insecureCredentials: grpc.credentials.createInsecure(),
    });
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    cleanups.push(async () => {
      stop.abort();
      await running;
    });

    await expect.poll(() => manager.statuses.get(task.id)?.state, { timeout: 5000 }).toBe(TaskState.RUNNING);
    const files = fake.files.get(task.id)!;
    expect(files.map((f) => [f.target, Buffer.from(f.data).toString(), f.mode.toString(8)])).toEqual([
      ["/run/secrets/db_password", SECRET_BYTES, "400"],
      ["/app.conf", "x=1", "444"],
    ]);

    manager.push([
      change(AssignmentAction.REMOVE, { task }),
      change(AssignmentAction.REMOVE, { secret: Secret.fromPartial({ id: "sec1" }) }),
      change(AssignmentAction.REMOVE, { config: Config.fromPartial({ id: "cfg1" }) }),
    ]);
    await expect.poll(() => fake.containers.has(task.id), { timeout: 5000 }).toBe(false);
    stop.abort();
    await running;

    const log = lines.join("");
    expect(log).toContain("registered with the cluster");
    const bytes = Buffer.from(SECRET_BYTES);
    for (const form of [
      SECRET_BYTES,
      bytes.toString("base64"),
      bytes.toString("hex"),
      [...bytes.subarray(0, 6)].join(","),
    ]) {
      expect(log).not.toContain(form);
    }
  });
});
