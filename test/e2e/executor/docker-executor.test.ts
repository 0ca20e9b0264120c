// The Docker executor against the host's real dockerd: what a user of `docker ps` / `docker
// inspect` would see, and what the agent reports, for each way a task can go.
//
// Every container made here carries the label com.shoal.e2e.run=<run> (and this run's node id),
// and is removed by that label afterwards.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { HealthState, TaskState, Task, silentLogger, type DeepPartial, type TaskStatus } from "@shoal/shared";
import {
  DaemonUnavailableError,
  DockerExecutor,
  doTask,
  type Controller,
  type ExecutorEvent,
  type StepResult,
} from "@shoal/agent";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `e2enode${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";
let image: string;
const executors: DockerExecutor[] = [];
const controllers: Controller[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

async function inspect(name: string, format: string): Promise<string> {
  return docker("inspect", "--format", format, name);
}

/** Containers of this run whose task id is `taskId`. */
async function containersOf(taskId: string): Promise<string[]> {
  const out = await docker(
    "ps",
    "-aq",
    "--filter",
    `label=${RUN_LABEL}=${RUN}`,
    "--filter",
    `label=com.shoal.task.id=${taskId}`,
  );
  return out === "" ? [] : out.split("\n");
}

/**
 * Creates the empty file `path` in the running container `name`, the go-ahead its command waits
 * for. Copied in by the daemon rather than written by `docker exec`: a command that exits as soon
 * as the file appears would take an exec'd process still running down with it (containerd kills
 * what is left when the init process exits), and `docker exec` would fail with 137.
 */
async function touch(name: string, path: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-e2e-"));
  try {
    const file = join(dir, basename(path));
    await writeFile(file, "");
    await docker("cp", file, `${name}:${path}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function removeRunContainers(): Promise<void> {
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", "-v", ...ids.split("\n"));
}

function executor(host?: string): DockerExecutor {
  const e = new DockerExecutor({
    logger: silentLogger(),
    nodeId: NODE,
    backoff: { initialMs: 50, maxMs: 200 },
    ...(host !== undefined ? { host } : {}),
  });
  executors.push(e);
  return e;
}

let serial = 0;
/** A task of service `e2e-<run>-<service>` in slot 1 of this run's node. */
function makeTask(
  service: string,
  container: DeepPartial<NonNullable<Task["spec"]>["container"]>,
  more: DeepPartial<NonNullable<Task["spec"]>> = {},
): Task {
  serial++;
  return Task.fromPartial({
    id: `t${RUN}${String(serial).padStart(3, "0")}`,
    serviceId: `s${RUN}${service}`,
    slot: 1,
    nodeId: NODE,
    serviceAnnotations: { name: `e2e-${RUN}-${service}` },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: {
      ...more,
      container: { image, ...container, labels: { [RUN_LABEL]: RUN, ...container?.labels } },
    },
  } as DeepPartial<Task>);
}

/** Steps the task until nothing is left to do (or the task ends), as the agent's runner would. */
async function runTask(
  task: Task,
  controller: Controller,
  until: TaskState = TaskState.COMPLETE,
): Promise<{ status: TaskStatus; steps: StepResult[] }> {
  const signal = AbortSignal.timeout(30_000);
  const steps: StepResult[] = [];
  let current = task;
  for (;;) {
    const step = await doTask(current, controller, signal);
    steps.push(step);
    if (step.outcome === "noop" || step.status.state >= until) return { status: step.status, steps };
    if (step.outcome === "retry") await new Promise((r) => setTimeout(r, 100));
    current = { ...current, status: step.status };
  }
}

function track(controller: Controller): Controller {
  controllers.push(controller);
  return controller;
}

/** A TCP door to the host's docker socket that a test can shut (connections cut, new ones refused). */
async function socketProxy(): Promise<{
  host: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const daemon = connect("/var/run/docker.sock");
    for (const s of [client, daemon]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(daemon).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const cut = async (): Promise<void> => {
    const closed = new Promise((r) => server.close(r));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return {
    host: `tcp://127.0.0.1:${port}`,
    cut,
    async restore() {
      server.listen(port, "127.0.0.1");
      await once(server, "listening");
    },
    close: cut,
  };
}

beforeAll(async () => {
  image = await ensureBaseImage();
});

afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
});

afterAll(async () => {
  for (const e of executors) await e.close();
  await removeRunContainers();
});

describe("DockerExecutor on the host's dockerd", () => {
  it("describes the host as Docker does", async () => {
    const description = await executor().describe();
    expect(description.hostname).toBe(await docker("info", "--format", "{{.Name}}"));
    expect(description.platform).toEqual({
      os: "linux",
      architecture: await docker("version", "--format", "{{.Server.Arch}}"),
    });
    expect(description.resources?.nanoCpus).toBe(Number(await docker("info", "--format", "{{.NCPU}}")) * 1e9);
    expect(description.resources?.memoryBytes).toBe(Number(await docker("info", "--format", "{{.MemTotal}}")));
    expect(description.engine?.engineVersion).toBe(await docker("version", "--format", "{{.Server.Version}}"));
    const volumes = (await docker("info", "--format", "{{json .Plugins.Volume}}")) ?? "";
    for (const name of JSON.parse(volumes) as string[]) {
      expect(description.engine?.plugins).toContainEqual({ type: "Volume", name });
    }
    expect(description.engine?.plugins).toContainEqual({ type: "Volume", name: "local" });
  });

  it("runs a task to COMPLETE: name, labels, env and args as specified", async () => {
    const task = makeTask("ok", {
      command: ["/bin/sh", "-c", 'echo "$GREETING" "$@"', "sh"],
      args: ["one", "two"],
      env: ["GREETING=hello"],
      labels: { team: "blue" },
    });
    const controller = track(executor().controller(task));
    await controller.prepare(); // prepare twice: the second finds the first's container
    const { status } = await runTask(task, controller);

    expect(status.state).toBe(TaskState.COMPLETE);
    expect(status.err).toBe("");
    expect(status.containerStatus?.exitCode).toBe(0);
    const name = `e2e-${RUN}-ok.1.${task.id}`;
    expect(await containersOf(task.id)).toHaveLength(1);
    expect(await inspect(name, "{{.Id}}")).toBe(status.containerStatus?.containerId);
    expect(JSON.parse(await inspect(name, "{{json .Config.Labels}}"))).toMatchObject({
      team: "blue",
      "com.shoal.task.id": task.id,
      "com.shoal.service.id": task.serviceId,
      "com.shoal.service.name": `e2e-${RUN}-ok`,
      "com.shoal.node.id": NODE,
      "com.shoal.slot": "1",
    });
    expect(await inspect(name, "{{.HostConfig.RestartPolicy.Name}}")).toBe("no");
    expect(await docker("logs", name)).toBe("hello one two");
  });

  it("reports FAILED with the exit code of a task that exits 3", async () => {
    const task = makeTask("three", { args: ["sh", "-c", "exit 3"] });
    const { status } = await runTask(task, track(executor().controller(task)));
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("task: non-zero exit (3)");
    expect(status.containerStatus?.exitCode).toBe(3);
    expect(await inspect(`e2e-${RUN}-three.1.${task.id}`, "{{.State.ExitCode}}")).toBe("3");
  });

  it("rejects a task whose image cannot be pulled, with Docker's message, creating nothing", async () => {
    const missing = `shoal-e2e-missing-${RUN}/nothing:1`;
    const cli = await run("docker", ["pull", missing]).then(
      () => "",
      (err: { stderr: string }) => err.stderr.trim().replace(/^Error response from daemon: /, ""),
    );
    expect(cli).not.toBe("");
    const task = makeTask("missing", { image: missing });
    const { status, steps } = await runTask(task, track(executor().controller(task)));
    expect(steps.map((s) => s.status.state)).toEqual([TaskState.ACCEPTED, TaskState.PREPARING, TaskState.REJECTED]);
    expect(status.err).toBe(`pulling image ${missing}: ${cli}`);
    expect(await containersOf(task.id)).toEqual([]);

    const badName = makeTask("badname", { image: "Not_A/Valid:Name" });
    const bad = await runTask(badName, track(executor().controller(badName)));
    expect(bad.status.state).toBe(TaskState.REJECTED);
    expect(bad.status.err).toMatch(/invalid reference format/);
  });

  it("fails a task whose process cannot be started, with Docker's message", async () => {
    const task = makeTask("nostart", { command: ["/bin/no-such-program"] });
    const { status } = await runTask(task, track(executor().controller(task)));
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toMatch(
      new RegExp(
        `^starting container e2e-${RUN}-nostart\\.1\\.${task.id}: .*no-such-program.*no such file or directory`,
      ),
    );
  });

  it("reports a health check that passes: starting, then healthy, from Docker's events", async () => {
    const e = executor();
    const events: ExecutorEvent[] = [];
    e.subscribe((event) => events.push(event));
    const task = makeTask("healthy", {
      args: ["sleep", "60"],
      healthcheck: { test: ["CMD-SHELL", "true"], interval: { seconds: 0, nanos: 500_000_000 } },
      stopGracePeriod: { seconds: 0, nanos: 0 },
    });
    const controller = track(e.controller(task));
    const seen: HealthState[] = [];
    controller.onHealth((h) => seen.push(h));
    const { status } = await runTask(task, controller, TaskState.RUNNING);
    expect(status.state).toBe(TaskState.RUNNING);
    expect(status.health).toBe(HealthState.HEALTHY);
    expect(seen).toEqual([HealthState.STARTING, HealthState.HEALTHY]);
    expect(events).toContainEqual(
      expect.objectContaining({ taskId: task.id, action: "health_status", health: HealthState.HEALTHY }),
    );
    expect(await inspect(`e2e-${RUN}-healthy.1.${task.id}`, "{{.State.Health.Status}}")).toBe("healthy");
  });

  it("fails a running task whose health check starts failing, stopping its container", async () => {
    // Healthy until /tmp/sick appears a second after start; two failed checks make it unhealthy.
    const task = makeTask("unhealthy", {
      args: ["sh", "-c", "sleep 1; echo > /tmp/sick; exec sleep 60"],
      healthcheck: {
        test: ["CMD-SHELL", "[ ! -e /tmp/sick ]"],
        interval: { seconds: 0, nanos: 300_000_000 },
        retries: 2,
      },
      stopGracePeriod: { seconds: 1, nanos: 0 },
    });
    const controller = track(executor().controller(task));
    const seen: HealthState[] = [];
    controller.onHealth((h) => seen.push(h));
    const { status, steps } = await runTask(task, controller);
    expect(steps.map((s) => s.status.state)).toContain(TaskState.RUNNING);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("task: non-zero exit (137): container unhealthy");
    expect(seen).toEqual([HealthState.STARTING, HealthState.HEALTHY, HealthState.UNHEALTHY]);
    expect(await inspect(`e2e-${RUN}-unhealthy.1.${task.id}`, "{{.State.Status}} {{.State.Health.Status}}")).toBe(
      "exited unhealthy",
    );
  });

  it("fails the start of a task that is never healthy", async () => {
    const task = makeTask("neverhealthy", {
      args: ["sleep", "60"],
      healthcheck: { test: ["CMD", "false"], interval: { seconds: 0, nanos: 300_000_000 }, retries: 2 },
      stopGracePeriod: { seconds: 0, nanos: 0 },
    });
    const controller = track(executor().controller(task));
    const seen: HealthState[] = [];
    controller.onHealth((h) => seen.push(h));
    const { status } = await runTask(task, controller);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("container unhealthy");
    expect(seen).toEqual([HealthState.STARTING, HealthState.UNHEALTHY]);
  });

  it("reports a task killed for memory as FAILED with the OOM flag", async () => {
    // containerd's shim starts watching the container's cgroup for OOM only once the container
    // has started: a process killed for memory before that exits 137 with neither the oom event
    // nor OOMKilled, and Docker itself cannot tell it from a plain SIGKILL. So the task goes over
    // its limit only after the executor has seen it RUNNING (its start call has returned).
    const task = makeTask(
      "oom",
      {
        args: [
          "sh",
          "-c",
          "while [ ! -e /tmp/go ]; do sleep 0.05; done; exec dd if=/dev/zero bs=64M count=1 of=/dev/null",
        ],
      },
      { resources: { limits: { memoryBytes: 8 * 2 ** 20 } } },
    );
    const controller = track(executor().controller(task));
    const { status: running } = await runTask(task, controller, TaskState.RUNNING);
    expect(running.state).toBe(TaskState.RUNNING);
    const name = `e2e-${RUN}-oom.1.${task.id}`;
    await touch(name, "/tmp/go");
    const { status } = await runTask({ ...task, status: running }, controller);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("task: killed for going over its memory limit (OOM), exit (137)");
    expect(status.containerStatus?.exitCode).toBe(137);
    expect(await inspect(name, "{{.State.OOMKilled}} {{.HostConfig.Memory}}")).toBe(`true ${8 * 2 ** 20}`);
  });

  it("reports a task killed by SIGKILL, not for memory, as a plain exit soon after", async () => {
    const task = makeTask("sigkill", { args: ["sleep", "60"] });
    const controller = track(executor().controller(task));
    const { status: running } = await runTask(task, controller, TaskState.RUNNING);
    expect(running.state).toBe(TaskState.RUNNING);
    const killed = Date.now();
    await docker("kill", `e2e-${RUN}-sigkill.1.${task.id}`);
    const { status } = await runTask({ ...task, status: running }, controller);
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("task: non-zero exit (137)");
    // The wait for an oom event that never comes is bounded (1 s).
    expect(Date.now() - killed).toBeLessThan(4_000);
  });

  it("adopts a running container after a restart instead of starting another", async () => {
    // Runs until /tmp/done appears, then exits 0.
    const task = makeTask("adopt", { args: ["sh", "-c", "while [ ! -e /tmp/done ]; do sleep 0.1; done"] });
    const first = executor();
    const { status: running } = await runTask(task, track(first.controller(task)), TaskState.RUNNING);
    expect(running.state).toBe(TaskState.RUNNING);
    const name = `e2e-${RUN}-adopt.1.${task.id}`;
    const startedAt = await inspect(name, "{{.State.StartedAt}}");
    await first.close();

    const second = executor();
    const listed = (await second.list()).filter((c) => c.taskId === task.id);
    expect(listed).toEqual([
      expect.objectContaining({
        taskId: task.id,
        name,
        state: "running",
        serviceId: task.serviceId,
        slot: 1,
        nodeId: NODE,
      }),
    ]);
    // The new agent does not know the RUNNING report went through: it goes from STARTING again.
    const controller = track(second.controller(task));
    const restarted = { ...task, status: { ...running, state: TaskState.STARTING } };
    const finishing = runTask(restarted, controller);
    await new Promise((r) => setTimeout(r, 500));
    await touch(name, "/tmp/done");
    const { status } = await finishing;
    expect(status.state).toBe(TaskState.COMPLETE);
    expect(await containersOf(task.id)).toHaveLength(1);
    expect(await inspect(name, "{{.State.StartedAt}}")).toBe(startedAt);
  });

  it("shuts a task down with its stop signal, and kills it at the end of the grace period", async () => {
    const e = executor();
    // Exits 7 on SIGUSR1, its stop signal: stops at once although the grace period is 10 s.
    const polite = makeTask("polite", {
      args: ["sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done"],
      stopSignal: "SIGUSR1",
    });
    // sleep as PID 1 ignores SIGTERM: killed after the 1 s grace period.
    const stubborn = makeTask("stubborn", { args: ["sleep", "60"], stopGracePeriod: { seconds: 1, nanos: 0 } });
    for (const [task, maxMs, exit] of [
      [polite, 3_000, "7"],
      [stubborn, 4_000, "137"],
    ] as const) {
      const controller = track(e.controller(task));
      const { status } = await runTask(task, controller, TaskState.RUNNING);
      expect(status.state).toBe(TaskState.RUNNING);
      const started = Date.now();
      const { status: stopped } = await runTask({ ...task, desiredState: TaskState.SHUTDOWN, status }, controller);
      const took = Date.now() - started;
      expect(stopped.state).toBe(TaskState.SHUTDOWN);
      expect(took).toBeLessThan(maxMs);
      const name = `e2e-${RUN}-${task.serviceAnnotations!.name.split("-").at(-1)}.1.${task.id}`;
      expect(await inspect(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe(`exited ${exit}`);
      if (task === stubborn) expect(took).toBeGreaterThanOrEqual(900);
      await controller.remove();
      expect(await containersOf(task.id)).toEqual([]);
    }
  });

  it("misses nothing while its connection to the daemon is down, and reports that as temporary", async () => {
    const proxy = await socketProxy();
    try {
      const e = executor(proxy.host);
      // Runs until /tmp/done appears, then exits 5.
      const task = makeTask("cut", { args: ["sh", "-c", "while [ ! -e /tmp/done ]; do sleep 0.1; done; exit 5"] });
      const controller = track(e.controller(task));
      const { status } = await runTask(task, controller, TaskState.RUNNING);
      expect(status.state).toBe(TaskState.RUNNING);
      const waiting = doTask({ ...task, status }, controller, AbortSignal.timeout(30_000));

      await new Promise((r) => setTimeout(r, 200));
      await proxy.cut();
      // The task exits while the executor cannot see the daemon.
      const name = `e2e-${RUN}-cut.1.${task.id}`;
      await touch(name, "/tmp/done");
      while ((await inspect(name, "{{.State.Status}}")) !== "exited") await new Promise((r) => setTimeout(r, 50));
      // Meanwhile, steps fail as temporary errors and keep their state.
      const other = makeTask("cutother", { args: ["true"] });
      const step = await doTask(
        { ...other, status: { ...other.status!, state: TaskState.PREPARING } },
        track(e.controller(other)),
      );
      expect(step.outcome).toBe("retry");
      expect(step.status.state).toBe(TaskState.PREPARING);
      expect(step.error).toBeInstanceOf(DaemonUnavailableError);
      expect(step.status.err).toMatch(/docker daemon unreachable/);
      await new Promise((r) => setTimeout(r, 400)); // a few failed reconnections

      await proxy.restore();
      const done = await waiting;
      expect(done.status.state).toBe(TaskState.FAILED);
      expect(done.status.err).toBe("task: non-zero exit (5)");
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });
});
