// The agent's side of container calls on the host's real dockerd: a fake manager (a real gRPC
// server on a real socket) hands calls to runContainerCalls as the leader would, and the test
// reads what a client would get: inspect, top, stats, exec with and without a TTY, stdin,
// resize, exit codes, a cancel that kills the exec, and containers that are not this task's.
//
// Every container made here carries the label com.shoal.e2e.run=<run> and is removed afterwards.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import {
  ContainerOp,
  ContainerOutputStream,
  ContainersService,
  ContainerCallOpen,
  silentLogger,
  type ContainerCallRequest,
  type ContainerCallResponse,
  type DeepPartial,
  type ListenContainerCallsResponse,
  type ServeContainerCallRequest,
  type ServeContainerCallResponse,
} from "@shoal/shared";
import { DockerContainerCalls, DockerExecutor, runContainerCalls } from "@shoal/agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `agentops${RUN}`;
const TASK = `task${RUN}`;
const SERVICE = `svc${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

/** One call as the manager sees it: the agent's outputs, and the client's side of the input. */
interface Served {
  readonly outputs: ContainerCallResponse["output"][];
  /** Resolves when the agent ended the call. */
  readonly done: Promise<void>;
  send(input: ContainerCallRequest["input"]): void;
  /** The manager stops reading the agent's output (a slow client), or reads again. */
  pause(): void;
  resume(): void;
  /** The client went away: the manager ends the agent's stream. */
  cancel(): void;
}

/** A leader's Containers service reduced to what the agent uses. */
class FakeLeader {
  readonly server = new grpc.Server();
  private listener: grpc.ServerWritableStream<unknown, ListenContainerCallsResponse> | undefined;
  private listening: () => void = () => undefined;
  private readonly pending = new Map<string, (stream: ServeDuplex) => void>();
  private serial = 0;

  async start(): Promise<string> {
    this.server.addService(ContainersService, {
      containerCall: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
      listenContainerCalls: (call: grpc.ServerWritableStream<unknown, ListenContainerCallsResponse>) => {
        this.listener = call;
        this.listening();
      },
      serveContainerCall: (call: ServeDuplex) => {
        call.once("data", (first: ServeContainerCallRequest) => this.pending.get(first.callId)?.(call));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return `127.0.0.1:${port}`;
  }

  async waitListening(): Promise<void> {
    if (this.listener === undefined) await new Promise<void>((resolve) => (this.listening = resolve));
  }

  /** Hands a call to the agent. */
  call(containerId: string, open: DeepPartial<ContainerCallOpen>, taskId = TASK): Served {
    const callId = `call${++this.serial}`;
    const outputs: ContainerCallResponse["output"][] = [];
    const queued: ContainerCallRequest["input"][] = [];
    let stream: ServeDuplex | undefined;
    let ended = false;
    let cancelled: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      cancelled = resolve;
      this.pending.set(callId, (s) => {
        stream = s;
        for (const input of queued.splice(0)) s.write({ input: { input } });
        s.on("data", (m: ServeContainerCallRequest) => outputs.push(m.output?.output));
        s.on("end", () => {
          if (!ended) s.end();
          ended = true;
          resolve();
        });
        s.on("error", () => resolve());
      });
    });
    this.listener!.write({ callId, taskId, containerId, open: ContainerCallOpen.fromPartial(open) });
    return {
      outputs,
      done,
      send: (input) => (stream ? stream.write({ input: { input } }) : queued.push(input)),
      pause: () => stream?.pause(),
      resume: () => stream?.resume(),
      cancel: () => {
        ended = true;
        stream?.end();
        cancelled();
      },
    };
  }
}

type ServeDuplex = grpc.ServerDuplexStream<ServeContainerCallRequest, ServeContainerCallResponse>;

function outputOf(served: Served, stream: ContainerOutputStream): string {
  return served.outputs
    .flatMap((o) => (o?.$case === "data" && o.value.stream === stream ? [Buffer.from(o.value.data)] : []))
    .map((b) => b.toString())
    .join("");
}

type Output = NonNullable<ContainerCallResponse["output"]>;
type OutputValue = { [K in Output["$case"]]: Extract<Output, { $case: K }>["value"] };

/** The value of the first output of kind `c`. */
function the<C extends Output["$case"]>(served: Served, c: C): OutputValue[C] {
  const found = served.outputs.find((o) => o?.$case === c);
  expect(found, `a ${c} output in ${JSON.stringify(served.outputs.map((o) => o?.$case))}`).toBeDefined();
  return (found as { value: unknown }).value as OutputValue[C];
}

function json(served: Served, index = 0): unknown {
  const docs = served.outputs.flatMap((o) => (o?.$case === "json" ? [o.value] : []));
  return JSON.parse(Buffer.from(docs[index]!).toString());
}

async function within<T>(p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const leader = new FakeLeader();
const session = new AbortController();
const executor = new DockerExecutor({ logger: silentLogger(), nodeId: NODE });
let serving: Promise<void>;
let task: string; // the task's container id
let stranger: string; // a container without Shoal's labels

async function runContainer(labels: Record<string, string>): Promise<string> {
  const flags = Object.entries({ [RUN_LABEL]: RUN, ...labels }).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  return docker("run", "-d", ...flags, await ensureBaseImage(), "sleep", "1000");
}

beforeAll(async () => {
  const address = await leader.start();
  task = await runContainer({
    "com.shoal.task.id": TASK,
    "com.shoal.service.id": SERVICE,
    "com.shoal.node.id": NODE,
  });
  stranger = await runContainer({});
  const server = DockerContainerCalls.of(executor, silentLogger());
  if (!server) throw new Error("a DockerExecutor has a container-call server");
  serving = runContainerCalls(
    {
      manager: address,
      nodeId: NODE,
      sessionId: "session1",
      server,
      logger: silentLogger(),
      channel: { credentials: grpc.credentials.createInsecure() },
    },
    session.signal,
  );
  await within(leader.waitListening());
});

afterAll(async () => {
  session.abort();
  await serving;
  leader.server.forceShutdown();
  await executor.close();
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", ...ids.split("\n"));
});

describe("container calls served by the agent on a real dockerd", () => {
  it("inspects the task container: started, then Docker's inspect JSON", async () => {
    const served = leader.call(task, { op: ContainerOp.INSPECT });
    await within(served.done);
    expect(served.outputs[0]?.$case).toBe("started");
    expect(the(served, "started")).toEqual({
      taskId: TASK,
      nodeId: NODE,
      containerId: task,
      serviceId: SERVICE,
      execId: "",
    });
    expect((json(served) as { Id: string }).Id).toBe(task);
  });

  it("lists the container's processes (top) and gives a stats sample with memory usage", async () => {
    const top = leader.call(task, { op: ContainerOp.TOP });
    await within(top.done);
    const processes = json(top) as { Titles: string[]; Processes: string[][] };
    expect(processes.Titles).toContain("CMD");
    expect(processes.Processes.map((p) => p.join(" "))).toContainEqual(expect.stringContaining("sleep 1000"));

    const stats = leader.call(task, { op: ContainerOp.STATS, stats: { stream: false, oneShot: true } });
    await within(stats.done);
    const sample = json(stats) as { id: string; memory_stats: { usage: number } };
    expect(sample.id).toBe(task);
    expect(sample.memory_stats.usage).toBeGreaterThan(0);
    expect(stats.outputs.filter((o) => o?.$case === "json")).toHaveLength(1);
  });

  it("streams stats samples until the call is cancelled", async () => {
    const served = leader.call(task, { op: ContainerOp.STATS, stats: { stream: true } });
    await until(async () => served.outputs.filter((o) => o?.$case === "json").length >= 2);
    served.cancel();
    await within(served.done);
    expect((json(served, 1) as { id: string }).id).toBe(task);
  });

  it("runs an exec: stdout and stderr apart, then its exit code", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["sh", "-c", "echo out; echo err >&2; exit 3"], attachStdout: true, attachStderr: true },
    });
    await within(served.done);
    const started = the(served, "started");
    expect(started.execId).toMatch(/^[0-9a-f]{64}$/);
    expect(outputOf(served, ContainerOutputStream.STDOUT)).toBe("out\n");
    expect(outputOf(served, ContainerOutputStream.STDERR)).toBe("err\n");
    expect(the(served, "exit")).toEqual({ exitCode: 3 });
    expect(served.outputs.at(-1)?.$case).toBe("exit");
  });

  it("feeds stdin to an exec and ends its stdin on close_stdin (cat ends)", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["cat"], attachStdin: true, attachStdout: true, attachStderr: true },
    });
    served.send({ $case: "stdin", value: Buffer.from("hello through stdin\n") });
    served.send({ $case: "closeStdin", value: true });
    await within(served.done);
    expect(outputOf(served, ContainerOutputStream.STDOUT)).toBe("hello through stdin\n");
    expect(the(served, "exit")).toEqual({ exitCode: 0 });
  });

  it("runs a shell on a TTY through stdin, with its exit code", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["sh"], tty: true, attachStdin: true, attachStdout: true, attachStderr: true },
      size: { height: 24, width: 80 },
    });
    served.send({ $case: "stdin", value: Buffer.from("echo hi\n") });
    served.send({ $case: "stdin", value: Buffer.from("exit 5\n") });
    await within(served.done);
    expect(outputOf(served, ContainerOutputStream.TTY)).toContain("hi\r\n");
    expect(the(served, "exit")).toEqual({ exitCode: 5 });
  });

  it("sizes the TTY at the start and on resize", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["sh"], tty: true, attachStdin: true, attachStdout: true },
      size: { height: 33, width: 101 },
    });
    served.send({ $case: "stdin", value: Buffer.from("busybox stty size\n") });
    await until(async () => outputOf(served, ContainerOutputStream.TTY).includes("33 101"));
    served.send({ $case: "resize", value: { height: 40, width: 120 } });
    served.send({ $case: "stdin", value: Buffer.from("busybox stty size; exit\n") });
    await within(served.done);
    expect(outputOf(served, ContainerOutputStream.TTY)).toContain("40 120");
    expect(the(served, "exit")).toEqual({ exitCode: 0 });
  });

  it("kills the exec's process when the call is cancelled before it ends", async () => {
    const marker = "4321";
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["sleep", marker], attachStdout: true, attachStderr: true },
    });
    const running = async (): Promise<boolean> =>
      (await docker("top", task, "-ef")).split("\n").some((l) => l.includes(`sleep ${marker}`));
    await until(running);
    served.cancel();
    await until(async () => !(await running()));
    expect(served.outputs.some((o) => o?.$case === "exit")).toBe(false);
    // The container itself runs on.
    expect(await docker("inspect", "--format", "{{.State.Running}}", task)).toBe("true");
  });

  it("kills a cancelled TTY shell and what it started", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["sh"], tty: true, attachStdin: true, attachStdout: true },
    });
    served.send({ $case: "stdin", value: Buffer.from("sleep 4322\n") });
    const running = async (): Promise<boolean> =>
      (await docker("top", task, "-ef")).split("\n").some((l) => l.includes("sleep 4322"));
    await until(running);
    served.cancel();
    await until(async () => !(await running()));
    const left = (await docker("top", task, "-o", "pid,args")).split("\n").slice(1);
    expect(left.map((l) => l.trim().split(/\s+/).slice(1).join(" "))).toEqual(["sleep 1000"]);
  });

  it("holds a fast exec's output while the manager does not read (bounded memory)", async () => {
    const served = leader.call(task, {
      op: ContainerOp.EXEC,
      exec: { cmd: ["cat", "/dev/zero"], attachStdout: true },
    });
    await until(async () => served.outputs.length > 1);
    served.pause();
    const before = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 3000));
    // cat writes GB/s: read on without waiting, the agent would hold gigabytes by now.
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    const cats = async (): Promise<boolean> =>
      (await docker("top", task, "-ef")).split("\n").some((l) => l.includes("cat /dev/zero"));
    expect(await cats()).toBe(true);
    served.resume();
    served.cancel();
    await until(async () => !(await cats()));
  });

  it("attaches to the container's own stdio: stdin in, output out, its exit code", async () => {
    const id = `${TASK}c`;
    const flags = ["--label", `${RUN_LABEL}=${RUN}`, "--label", `com.shoal.task.id=${id}`];
    flags.push("--label", `com.shoal.node.id=${NODE}`);
    const script = "read line; echo got $line; echo bye >&2; exit 7";
    const attached = await docker("run", "-d", "-i", ...flags, await ensureBaseImage(), "sh", "-c", script);
    const served = leader.call(
      attached,
      { op: ContainerOp.ATTACH, attach: { stdin: true, stdout: true, stderr: true, stream: true } },
      id,
    );
    await until(async () => served.outputs.length > 0);
    served.send({ $case: "stdin", value: Buffer.from("abc\n") });
    await within(served.done);
    expect(outputOf(served, ContainerOutputStream.STDOUT)).toBe("got abc\n");
    expect(outputOf(served, ContainerOutputStream.STDERR)).toBe("bye\n");
    expect(the(served, "exit")).toEqual({ exitCode: 7 });
  });

  it("ends its calls and kills their execs when the session ends", async () => {
    const other = new FakeLeader();
    const address = await other.start();
    const ended = new AbortController();
    const server = DockerContainerCalls.of(executor, silentLogger())!;
    const credentials = grpc.credentials.createInsecure();
    const options = { manager: address, nodeId: NODE, sessionId: "session2", server, logger: silentLogger() };
    const served2 = runContainerCalls({ ...options, channel: { credentials } }, ended.signal);
    try {
      await within(other.waitListening());
      const served = other.call(task, { op: ContainerOp.EXEC, exec: { cmd: ["sleep", "4323"], attachStdout: true } });
      const running = async (): Promise<boolean> =>
        (await docker("top", task, "-ef")).split("\n").some((l) => l.includes("sleep 4323"));
      await until(running);
      ended.abort();
      await within(served2);
      await until(async () => !(await running()));
      await within(served.done);
    } finally {
      ended.abort();
      other.server.forceShutdown();
    }
  });

  it("refuses a container that is not a task container, or not the call's task", async () => {
    for (const [id, taskId] of [
      [stranger, TASK],
      [task, "someothertask"],
      ["0123456789ab", TASK],
    ] as const) {
      const served = leader.call(id, { op: ContainerOp.EXEC, exec: { cmd: ["true"] } }, taskId);
      await within(served.done);
      expect(served.outputs).toEqual([
        { $case: "error", value: { code: grpc.status.NOT_FOUND, message: `no such container: ${id}` } },
      ]);
    }
    // Nothing ran in the stranger.
    expect(await docker("inspect", "--format", "{{len .ExecIDs}}", stranger)).toBe("0");
  });

  it("answers FAILED_PRECONDITION with Docker's message for an exec in a stopped container", async () => {
    const stopped = await runContainer({ "com.shoal.task.id": `${TASK}b`, "com.shoal.node.id": NODE });
    await docker("stop", "-t", "0", stopped);
    const served = leader.call(stopped, { op: ContainerOp.EXEC, exec: { cmd: ["true"] } }, `${TASK}b`);
    await within(served.done);
    const error = the(served, "error");
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.message).toMatch(/is not running/);
  });
});
