// A task's mounts on the host's real dockerd, as `docker inspect`, `docker volume inspect` and the
// container itself show them: bind (read-only honoured, a missing source a clear task error),
// named volumes (created with the driver, options and labels given, kept after the task, their
// data read by the next task), anonymous volumes (gone with the container), tmpfs (size, mode).
//
// Containers carry the label com.shoal.e2e.run=<run>; volumes are named e2e-<run>-*; both are
// removed afterwards.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { MountType, Task, TaskState, silentLogger, type DeepPartial, type Mount, type TaskStatus } from "@shoal/shared";
import { DockerExecutor, doTask, type Controller } from "@shoal/agent";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `e2enode${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";
const VOLUME_PREFIX = `e2e-${RUN}-`;
let image: string;
let executor: DockerExecutor;
const controllers: Controller[] = [];
const dirs: string[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

async function hostDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-e2e-mounts-"));
  dirs.push(dir);
  return dir;
}

let serial = 0;
/** A task of service e2e-<run>-<service>, slot 1, on this run's node; its command is `sh -c script`. */
function makeTask(service: string, script: string, mounts: DeepPartial<Mount>[]): Task {
  serial++;
  return Task.fromPartial({
    id: `m${RUN}${String(serial).padStart(3, "0")}`,
    serviceId: `s${RUN}${service}`,
    slot: 1,
    nodeId: NODE,
    serviceAnnotations: { name: `e2e-${RUN}-${service}` },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: { container: { image, args: ["sh", "-c", script], labels: { [RUN_LABEL]: RUN }, mounts } },
  } as DeepPartial<Task>);
}

const containerOf = (task: Task): string => `${task.serviceAnnotations!.name}.1.${task.id}`;

/** Steps the task as the agent's runner would, until it ends (or nothing is left to do). */
async function runTask(task: Task): Promise<{ status: TaskStatus; controller: Controller }> {
  const controller = executor.controller(task);
  controllers.push(controller);
  const signal = AbortSignal.timeout(30_000);
  let current = task;
  for (;;) {
    const step = await doTask(current, controller, signal);
    if (step.outcome === "noop" || step.status.state >= TaskState.COMPLETE) return { status: step.status, controller };
    if (step.outcome === "retry") await new Promise((r) => setTimeout(r, 100));
    current = { ...current, status: step.status };
  }
}

async function containersOf(taskId: string): Promise<string[]> {
  const out = await docker("ps", "-aq", "--filter", `label=com.shoal.task.id=${taskId}`);
  return out === "" ? [] : out.split("\n");
}

async function volumeExists(name: string): Promise<boolean> {
  return (await docker("volume", "ls", "-q", "--filter", `name=^${name}$`)) === name;
}

beforeAll(async () => {
  image = await ensureBaseImage();
  executor = new DockerExecutor({ logger: silentLogger(), nodeId: NODE, backoff: { initialMs: 50, maxMs: 200 } });
});

afterEach(() => {
  for (const c of controllers.splice(0)) c.close();
});

afterAll(async () => {
  await executor?.close();
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", "-v", ...ids.split("\n"));
  const volumes = await docker("volume", "ls", "-q", "--filter", `name=${VOLUME_PREFIX}`);
  if (volumes !== "") await docker("volume", "rm", "-f", ...volumes.split("\n"));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("mounts on the host's dockerd", () => {
  it("bind-mounts a node path read-only: the task reads it, and a write fails", async () => {
    const dir = await hostDir();
    await writeFile(join(dir, "greeting"), "hello from the node\n");
    const task = makeTask("bind", "cat /in/greeting; echo x > /in/written", [
      { type: MountType.BIND, source: dir, target: "/in", readOnly: true, bindOptions: { propagation: "rprivate" } },
    ]);
    const { status } = await runTask(task);

    // The write's failure is the script's exit code.
    expect(status.state).toBe(TaskState.FAILED);
    expect(status.err).toBe("task: non-zero exit (1)");
    const name = containerOf(task);
    expect(JSON.parse(await docker("inspect", "--format", "{{json .HostConfig.Mounts}}", name))).toEqual([
      { Type: "bind", Source: dir, Target: "/in", ReadOnly: true, BindOptions: { Propagation: "rprivate" } },
    ]);
    expect(await docker("inspect", "--format", "{{json .HostConfig.Binds}}", name)).toBe("null");
    const { stdout, stderr } = await run("docker", ["logs", name]);
    expect(stdout).toBe("hello from the node\n");
    expect(stderr).toMatch(/Read-only file system/);
    await expect(stat(join(dir, "written"))).rejects.toThrow(/ENOENT/);
  });

  it("rejects a task whose bind source does not exist on the node, creating nothing", async () => {
    const missing = join(await hostDir(), "not-here");
    const task = makeTask("nobind", "true", [{ type: MountType.BIND, source: missing, target: "/in" }]);
    const { status } = await runTask(task);
    expect(status.state).toBe(TaskState.REJECTED);
    expect(status.err).toBe(`bind source path ${missing} does not exist on node ${NODE}`);
    expect(await containersOf(task.id)).toEqual([]);
    await expect(stat(missing)).rejects.toThrow(/ENOENT/); // and Docker did not make it
  });

  it("creates a named volume with its driver, options and labels, and keeps it after the task", async () => {
    const device = await hostDir();
    const volume = `${VOLUME_PREFIX}opts`;
    const task = makeTask("volopts", "echo kept > /data/f", [
      {
        type: MountType.VOLUME,
        source: volume,
        target: "/data",
        volumeOptions: {
          labels: { "com.example.team": "blue" },
          driverConfig: { name: "local", options: { type: "none", o: "bind", device } },
        },
      },
    ]);
    const { status, controller } = await runTask(task);
    expect(status.state).toBe(TaskState.COMPLETE);

    const [info] = JSON.parse(await docker("volume", "inspect", volume)) as {
      Driver: string;
      Labels: Record<string, string>;
      Options: Record<string, string>;
    }[];
    expect(info?.Driver).toBe("local");
    expect(info?.Labels).toEqual({ "com.example.team": "blue" });
    expect(info?.Options).toEqual({ type: "none", o: "bind", device });
    // The driver's options were acted on: the volume is the node's directory.
    expect(await readFile(join(device, "f"), "utf8")).toBe("kept\n");

    await controller.remove();
    expect(await containersOf(task.id)).toEqual([]);
    expect(await volumeExists(volume)).toBe(true);
  });

  it("gives the next task of a slot the data the last one wrote to a named volume", async () => {
    const volume = `${VOLUME_PREFIX}data`;
    const mounts = [{ type: MountType.VOLUME, source: volume, target: "/data" }];
    const first = makeTask("data", "echo written by the first task > /data/note", mounts);
    const one = await runTask(first);
    expect(one.status.state).toBe(TaskState.COMPLETE);
    await one.controller.remove();
    expect(await volumeExists(volume)).toBe(true);

    const second = makeTask("data", "cat /data/note", mounts);
    const two = await runTask(second);
    expect(two.status.state).toBe(TaskState.COMPLETE);
    expect(await docker("logs", containerOf(second))).toBe("written by the first task");
  });

  it("removes an anonymous volume with its container", async () => {
    const task = makeTask("anon", "echo x > /cache/f", [{ type: MountType.VOLUME, target: "/cache" }]);
    const { status, controller } = await runTask(task);
    expect(status.state).toBe(TaskState.COMPLETE);
    const volume = await docker("inspect", "--format", "{{(index .Mounts 0).Name}}", containerOf(task));
    expect(volume).toMatch(/^[0-9a-f]{64}$/);
    expect(await volumeExists(volume)).toBe(true);
    await controller.remove();
    expect(await volumeExists(volume)).toBe(false);
  });

  it("mounts a tmpfs of the size and mode given", async () => {
    const task = makeTask("tmpfs", "stat -c %a /t; grep ' /t ' /proc/mounts", [
      { type: MountType.TMPFS, target: "/t", tmpfsOptions: { sizeBytes: 1 << 20, mode: 0o700 } },
    ]);
    const { status } = await runTask(task);
    expect(status.state).toBe(TaskState.COMPLETE);
    const name = containerOf(task);
    expect(JSON.parse(await docker("inspect", "--format", "{{json .HostConfig.Mounts}}", name))).toEqual([
      { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o700 } },
    ]);
    const [mode, mountLine] = (await docker("logs", name)).split("\n");
    expect(mode).toBe("700");
    expect(mountLine).toMatch(/^tmpfs \/t tmpfs \S*size=1024k,mode=700/);
  });

  it("rejects a task whose volume driver the daemon does not have, creating nothing", async () => {
    const volume = `${VOLUME_PREFIX}nodriver`;
    const task = makeTask("nodriver", "true", [
      {
        type: MountType.VOLUME,
        source: volume,
        target: "/data",
        volumeOptions: { driverConfig: { name: `nosuch${RUN}` } },
      },
    ]);
    const { status } = await runTask(task);
    expect(status.state).toBe(TaskState.REJECTED);
    expect(status.err).toMatch(new RegExp(`^volume driver nosuch${RUN} is not available on node ${NODE} \\(.+\\)$`));
    expect(await containersOf(task.id)).toEqual([]);
    expect(await volumeExists(volume)).toBe(false);
  });
});
