// Secrets and configs on a real dockerd: the agent's worker is fed a full set of assignments
// with a secret, a config and the tasks that use them, as the dispatcher sends them; the files
// are read from inside the container (`docker exec`), with their mode and owner, on a tmpfs,
// read-only; no byte of the secret is in the agent's data dir or its logs; and once the task and
// the secret are removed, nothing of them is left on the node.
//
// The secrets directory is made on /tmp (a disk here): the agent, root, mounts a tmpfs on it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import {
  DockerExecutor,
  FileTaskStore,
  TaskFiles,
  Worker,
  containerName,
  memoryBacked,
  type StatusSink,
} from "@shoal/agent";
import {
  AssignmentAction,
  AssignmentsType,
  Config,
  Secret,
  Task,
  TaskState,
  createLogger,
  type AssignmentChange,
  type DeepPartial,
  type TaskStatus,
} from "@shoal/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../harness/image.js";

const run = promisify(execFile);
const RUN = randomBytes(3).toString("hex");
const NODE = `e2esec${RUN}`;
const RUN_LABEL = "com.shoal.e2e.run";
const SECRET_BYTES = `db-password-${randomBytes(8).toString("hex")}`;
const CONFIG_BYTES = `listen ${RUN}\n`;

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { timeout: 20_000 });
  return stdout.trim();
}

/** `docker exec` in the task's container; rejects when the command fails. */
function exec(task: Task, ...command: string[]): Promise<string> {
  return docker("exec", containerName(task), ...command);
}

/** "MODE UID GID" of a file in the container (busybox's stat is an applet of its shell). */
function modeOwner(task: Task, path: string): Promise<string> {
  return exec(task, "sh", "-c", `stat -c '%a %u %g' ${path}`);
}

class Sink implements StatusSink {
  readonly last = new Map<string, TaskStatus>();
  report(taskId: string, status: TaskStatus): void {
    this.last.set(taskId, status);
  }
  forget(): void {}
}

let serial = 0;
function makeTask(service: string, container: DeepPartial<NonNullable<Task["spec"]>["container"]>): Task {
  serial++;
  return Task.fromPartial({
    id: `t${RUN}${serial}`,
    serviceId: `s${RUN}${service}`,
    slot: 1,
    nodeId: NODE,
    serviceAnnotations: { name: `e2e-${RUN}-${service}` },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.ASSIGNED },
    spec: {
      container: {
        image: "shoal-base:1",
        args: ["sleep", "300"],
        stopGracePeriod: { seconds: 1 },
        ...container,
        labels: { [RUN_LABEL]: RUN },
      },
    },
  } as DeepPartial<Task>);
}

const change = (action: AssignmentAction, part: Partial<AssignmentChange>): AssignmentChange => ({
  action,
  task: undefined,
  secret: undefined,
  config: undefined,
  network: undefined,
  ...part,
});

let base: string;
let secretsDir: string;
let dataDir: string;
let files: TaskFiles;
let executor: DockerExecutor;
let worker: Worker;
const sink = new Sink();
const logLines: string[] = [];

beforeAll(async () => {
  await ensureBaseImage();
  base = await mkdtemp(join(tmpdir(), "shoal-e2e-secrets-"));
  secretsDir = join(base, "secrets");
  dataDir = join(base, "data");
  await mkdir(dataDir);
  const logger = createLogger({
    level: "trace",
    pretty: false,
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString("utf8"));
        callback();
      },
    }),
  });
  files = await TaskFiles.open({ dir: secretsDir, logger });
  executor = new DockerExecutor({ logger, nodeId: NODE, files, backoff: { initialMs: 50, maxMs: 200 } });
  worker = new Worker({
    executor,
    reporter: sink,
    logger,
    store: new FileTaskStore(join(dataDir, "tasks.json"), logger),
    nodeId: NODE,
    backoff: { initialMs: 50, maxMs: 500 },
  });
});

afterAll(async () => {
  await worker?.stop();
  await executor?.close();
  const ids = await docker("ps", "-aq", "--filter", `label=${RUN_LABEL}=${RUN}`);
  if (ids !== "") await docker("rm", "-f", "-v", ...ids.split("\n"));
  await files?.close();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe("secrets and configs on a real dockerd", () => {
  const secret = Secret.fromPartial({
    id: `sec${RUN}`,
    spec: { annotations: { name: "db_password" }, data: Buffer.from(SECRET_BYTES) },
  });
  const config = Config.fromPartial({
    id: `cfg${RUN}`,
    spec: { annotations: { name: "app.conf" }, data: Buffer.from(CONFIG_BYTES) },
  });
  const app = makeTask("app", {
    secrets: [
      { secretId: secret.id, secretName: "db_password", file: { name: "db_password", uid: "0", gid: "0", mode: 0 } },
      {
        secretId: secret.id,
        secretName: "db_password",
        file: { name: "/etc/app/key", uid: "1000", gid: "1001", mode: 0o400 },
      },
    ],
    configs: [{ configId: config.id, configName: "app.conf", file: { name: "app.conf" } }],
  });
  const orphan = makeTask("orphan", { secrets: [{ secretId: `gone${RUN}`, secretName: "never_sent" }] });

  it("mounts the files read-only, with their owner and mode, from a tmpfs; nothing in the data dir", async () => {
    await worker.apply({
      type: AssignmentsType.COMPLETE,
      appliesTo: "",
      resultsIn: "set1",
      changes: [
        change(AssignmentAction.UPDATE, { secret }),
        change(AssignmentAction.UPDATE, { config }),
        change(AssignmentAction.UPDATE, { task: app }),
        change(AssignmentAction.UPDATE, { task: orphan }),
      ],
    });
    await expect.poll(() => sink.last.get(app.id)?.state, { timeout: 60_000 }).toBe(TaskState.RUNNING);

    // What the container sees: the data, the owner and mode asked for (0:0 0444 by default).
    expect(await exec(app, "cat", "/run/secrets/db_password")).toBe(SECRET_BYTES);
    expect(await modeOwner(app, "/run/secrets/db_password")).toBe("444 0 0");
    expect(await exec(app, "cat", "/etc/app/key")).toBe(SECRET_BYTES);
    expect(await modeOwner(app, "/etc/app/key")).toBe("400 1000 1001");
    expect(await exec(app, "cat", "/app.conf")).toBe(CONFIG_BYTES.trim());
    expect(await modeOwner(app, "/app.conf")).toBe("444 0 0");

    // Read-only: a write fails, as root in the container too.
    await expect(exec(app, "sh", "-c", "echo x > /run/secrets/db_password")).rejects.toThrow(/Read-only file system/);
    await expect(exec(app, "sh", "-c", "echo x > /app.conf")).rejects.toThrow(/Read-only file system/);

    // On a tmpfs, mounted read-only: as the container's /proc/mounts says, and on the host.
    const mounts = (await exec(app, "cat", "/proc/mounts")).split("\n").map((l) => l.split(" "));
    for (const target of ["/run/secrets/db_password", "/etc/app/key", "/app.conf"]) {
      const line = mounts.find((m) => m[1] === target);
      expect(line?.[2], target).toBe("tmpfs");
      expect(line?.[3]?.split(",")[0], target).toBe("ro");
    }
    expect(await memoryBacked(secretsDir)).toBe(true);
    const inspected = JSON.parse(await docker("inspect", "--format", "{{json .Mounts}}", containerName(app))) as {
      Destination: string;
      RW: boolean;
      Source: string;
    }[];
    expect(inspected.map((m) => [m.Destination, m.RW]).sort()).toEqual([
      ["/app.conf", false],
      ["/etc/app/key", false],
      ["/run/secrets/db_password", false],
    ]);
    expect(inspected.every((m) => m.Source.startsWith(`${secretsDir}/`))).toBe(true);

    // Not a byte of the secret in the agent's data dir, nor in its logs.
    await expect.poll(() => readdir(dataDir)).toContain("tasks.json");
    const grep = await run("grep", ["-r", "-l", "-F", SECRET_BYTES, dataDir]).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(grep).toBe(1); // grep: no match
    expect(logLines.join("")).toContain("created container");
    expect(logLines.join("")).not.toContain(SECRET_BYTES);
  });

  it("rejects a task whose secret the node never received, naming the secret", async () => {
    await expect.poll(() => sink.last.get(orphan.id)?.state, { timeout: 30_000 }).toBe(TaskState.REJECTED);
    expect(sink.last.get(orphan.id)?.err).toContain(`secret "never_sent" (gone${RUN}`);
    expect(await docker("ps", "-aq", "--filter", `label=com.shoal.task.id=${orphan.id}`)).toBe("");
  });

  it("leaves nothing of the secret on the node once the task and the secret are removed", async () => {
    await worker.apply({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "set1",
      resultsIn: "set2",
      changes: [
        change(AssignmentAction.REMOVE, { task: app }),
        change(AssignmentAction.REMOVE, { task: orphan }),
        change(AssignmentAction.REMOVE, { secret: Secret.fromPartial({ id: secret.id }) }),
        change(AssignmentAction.REMOVE, { config: Config.fromPartial({ id: config.id }) }),
      ],
    });
    expect(worker.dependencyIds()).toEqual({ secrets: [], configs: [] });
    await expect
      .poll(() => docker("ps", "-aq", "--filter", `label=com.shoal.task.id=${app.id}`), { timeout: 30_000 })
      .toBe("");
    expect(await readdir(secretsDir)).toEqual([]);
    const grep = await run("grep", ["-r", "-l", "-F", SECRET_BYTES, base]).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(grep).toBe(1);
  });

  it("removes a task's files once its container has exited, the container kept", async () => {
    const oneshot = makeTask("oneshot", {
      command: ["sh", "-c"],
      args: ["test -s /run/secrets/db_password && test -r /app.conf"],
      secrets: [{ secretId: secret.id, secretName: "db_password" }],
      configs: [{ configId: config.id, configName: "app.conf" }],
    });
    await worker.apply({
      type: AssignmentsType.INCREMENTAL,
      appliesTo: "set2",
      resultsIn: "set3",
      changes: [
        change(AssignmentAction.UPDATE, { secret }),
        change(AssignmentAction.UPDATE, { config }),
        change(AssignmentAction.UPDATE, { task: oneshot }),
      ],
    });
    // COMPLETE (exit 0): the files were there while it ran.
    await expect.poll(() => sink.last.get(oneshot.id)?.state, { timeout: 60_000 }).toBe(TaskState.COMPLETE);
    expect(await docker("inspect", "--format", "{{.State.Status}}", containerName(oneshot))).toBe("exited");
    expect(await readdir(secretsDir)).toEqual([]);
  });
});
