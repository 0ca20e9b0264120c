// An agent that is not root and whose secrets directory is on a disk: it cannot mount a tmpfs, so
// it writes no secret there; tasks that use secrets fail saying why, the others are not held up.
import { randomBytes } from "node:crypto";
import { chown, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DependencyStore, TaskFiles } from "@shoal/agent";
import { AssignmentAction, Secret, silentLogger } from "@shoal/shared";
import type * as FsPromises from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeTask } from "../exec/task-fixture.js";

const EXT4_MAGIC = 0xef53;
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  // Every directory looks like a disk (ext4).
  return { ...actual, statfs: vi.fn(async () => ({ type: EXT4_MAGIC })) };
});

const dir = join("/dev/shm", `shoal-test-${randomBytes(4).toString("hex")}`);
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe("a secrets directory that is not memory-backed", () => {
  it("fails the tasks that use secrets, naming the directory, when the agent cannot mount a tmpfs", async () => {
    // Not root: the agent's uid, and the directory's owner.
    const realUid = process.getuid!();
    const uid = realUid === 0 ? 1000 : realUid;
    await mkdir(join(dir, "stale"), { recursive: true });
    if (realUid === 0) await chown(dir, uid, uid);
    vi.spyOn(process, "getuid").mockReturnValue(uid);
    const files = await TaskFiles.open({ dir, logger: silentLogger() });
    expect(await files.problem()).toMatch(
      new RegExp(`${dir} is not memory-backed \\(filesystem type 0xef53\\).*cannot mount a tmpfs`),
    );
    const store = new DependencyStore();
    store.apply({
      action: AssignmentAction.UPDATE,
      task: undefined,
      config: undefined,
      network: undefined,
      secret: Secret.fromPartial({ id: "s1", spec: { annotations: { name: "db" }, data: Buffer.from("pw") } }),
    });
    const task = makeTask({
      spec: { container: { image: "shoal-base:1", secrets: [{ secretId: "s1", secretName: "db" }] } },
    });
    await expect(files.write(task, store)).rejects.toThrow(/cannot make the files of its secrets and configs/);
    expect(await files.write(makeTask(), store)).toEqual([]);
    // Nothing written there; what was there is removed all the same.
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a directory that belongs to someone else", async () => {
    await mkdir(dir, { recursive: true });
    vi.spyOn(process, "getuid").mockReturnValue(process.getuid!() + 4242);
    const files = await TaskFiles.open({ dir, logger: silentLogger() });
    expect(await files.problem()).toMatch(new RegExp(`cannot prepare ${dir} for secrets: it belongs to uid \\d+`));
  });
});
