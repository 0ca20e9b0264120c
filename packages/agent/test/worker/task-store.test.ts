import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HealthState, TaskState, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { FileTaskStore } from "../../src/worker/task-store.js";
import { makeTask } from "../exec/task-fixture.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function store(): Promise<{ store: FileTaskStore; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-tasks-"));
  dirs.push(dir);
  const file = join(dir, "tasks.json");
  return { store: new FileTaskStore(file, silentLogger()), file };
}

describe("FileTaskStore", () => {
  it("gives nothing before the first save", async () => {
    const { store: s } = await store();
    expect(await s.load()).toEqual([]);
  });

  it("round-trips tasks with their status", async () => {
    const { store: s, file } = await store();
    const task = makeTask({
      status: {
        state: TaskState.RUNNING,
        timestamp: new Date(1_700_000_000_000),
        health: HealthState.HEALTHY,
        containerStatus: { containerId: "c1", pid: 42, exitCode: 0 },
      },
    });
    await s.save([task]);
    expect(await s.load()).toEqual([task]);
    await s.save([]);
    expect(await s.load()).toEqual([]);
    // Written whole and renamed: no temporary file is left behind.
    await expect(readFile(`${file}.tmp`)).rejects.toThrow();
  });

  it("ignores a file it cannot read", async () => {
    const { store: s, file } = await store();
    await writeFile(file, "{ not json");
    expect(await s.load()).toEqual([]);
    await writeFile(file, JSON.stringify({ version: 9, tasks: [] }));
    expect(await s.load()).toEqual([]);
  });
});
