// The files of a task's secrets and configs in a memory-backed directory (here under /dev/shm,
// a tmpfs on Linux): written with their owner and mode, removed with the task, and whatever an
// earlier run left is removed when the agent starts.
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DependencyStore, TaskFiles, memoryBacked } from "@shoal/agent";
import { AssignmentAction, Config, Secret, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { makeTask } from "../exec/task-fixture.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function shmDir(): string {
  const dir = join("/dev/shm", `shoal-test-${randomBytes(4).toString("hex")}`, "node1");
  dirs.push(join(dir, ".."));
  return dir;
}

function store(): DependencyStore {
  const s = new DependencyStore();
  const none = { task: undefined, secret: undefined, config: undefined, network: undefined };
  s.apply({
    ...none,
    action: AssignmentAction.UPDATE,
    secret: Secret.fromPartial({ id: "s1", spec: { annotations: { name: "db" }, data: Buffer.from("pw1") } }),
  });
  s.apply({
    ...none,
    action: AssignmentAction.UPDATE,
    config: Config.fromPartial({ id: "c1", spec: { annotations: { name: "app" }, data: Buffer.from("cfg") } }),
  });
  return s;
}

describe("TaskFiles", () => {
  it("writes each file with its data, owner and mode, and removes them with the task", async () => {
    const dir = shmDir();
    const files = await TaskFiles.open({ dir, logger: silentLogger() });
    expect(await files.problem()).toBeUndefined();
    expect(await memoryBacked(dir)).toBe(true);
    const uid = String(process.getuid!());
    const gid = String(process.getgid!());
    const task = makeTask({
      spec: {
        container: {
          image: "shoal-base:1",
          secrets: [{ secretId: "s1", secretName: "db", file: { name: "db", uid, gid, mode: 0o400 } }],
          configs: [{ configId: "c1", configName: "app" }],
        },
      },
    });
    const written = await files.write(task, store());
    expect(written.map((f) => f.target)).toEqual(["/run/secrets/db", "/app"]);
    expect(written.map((f) => f.source)).toEqual([
      join(dir, task.id, "secrets", "0-s1"),
      join(dir, task.id, "configs", "1-c1"),
    ]);
    const secret = await stat(written[0]!.source);
    expect([secret.mode & 0o7777, secret.uid, secret.gid]).toEqual([0o400, Number(uid), Number(gid)]);
    expect((await stat(written[1]!.source)).mode & 0o7777).toBe(0o444);
    expect(await readFile(written[0]!.source, "utf8")).toBe("pw1");
    expect(await readFile(written[1]!.source, "utf8")).toBe("cfg");
    expect((await stat(dir)).mode & 0o777).toBe(0o700);

    // Written again (a retried prepare): the same files, no error on the read-only file.
    await files.write(task, store());
    await files.release(task);
    expect(await readdir(dir)).toEqual([]);
    await files.close();
  });

  it("writes nothing for a task without secrets, and names a secret the node lacks", async () => {
    const files = await TaskFiles.open({ dir: shmDir(), logger: silentLogger() });
    expect(await files.write(makeTask(), new DependencyStore())).toEqual([]);
    const task = makeTask({
      spec: { container: { image: "shoal-base:1", secrets: [{ secretId: "s9", secretName: "api_key" }] } },
    });
    await expect(files.write(task, store())).rejects.toThrow(/secret "api_key" \(s9, .*\) is not on this node/);
    expect(await readdir(files.dir)).toEqual([]);
  });

  it("removes what an earlier run left in the directory", async () => {
    const dir = shmDir();
    await mkdir(join(dir, "oldtask", "secrets"), { recursive: true });
    await writeFile(join(dir, "oldtask", "secrets", "0-s1"), "stale");
    const files = await TaskFiles.open({ dir, logger: silentLogger() });
    expect(await readdir(files.dir)).toEqual([]);
  });
});
