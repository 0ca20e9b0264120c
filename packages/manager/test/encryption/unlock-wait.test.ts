import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "@shoal/shared";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { UnlockKey } from "../../src/encryption/unlock-key.js";
import { callUnlockSocket, unlockSocketPath } from "../../src/encryption/unlock-socket.js";
import { UnlockWait } from "../../src/encryption/unlock-wait.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function dataDir(lockedWith?: UnlockKey): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-unlock-wait-"));
  dirs.push(dir);
  const keys = await RaftKeys.open(dir, { info: () => undefined });
  if (lockedWith) await keys.setUnlockKey(lockedWith);
  return dir;
}

const socketExists = (dir: string): Promise<boolean> =>
  stat(unlockSocketPath(dir)).then(
    () => true,
    () => false,
  );

async function untilSocket(dir: string): Promise<void> {
  while (!(await socketExists(dir))) await new Promise((r) => setTimeout(r, 5));
}

describe("UnlockWait", () => {
  it("opens data keys that are not locked at once", async () => {
    const dir = await dataDir();
    const wait = new UnlockWait({ clock: systemClock, dataDir: dir, logger: silentLogger() });
    expect(() => wait.keys).toThrow(/not open yet/);
    await wait.run(new AbortController().signal);
    expect(wait.keys.locked).toBe(false);
    expect(await socketExists(dir)).toBe(false);
    await wait.stop();
  });

  it("while locked, serves the unlock socket until the right key comes, then closes it", async () => {
    const key = UnlockKey.generate();
    const dir = await dataDir(key);
    const wait = new UnlockWait({ clock: systemClock, dataDir: dir, logger: silentLogger() });
    const running = wait.run(new AbortController().signal);
    await untilSocket(dir);
    expect(await callUnlockSocket(dir, undefined, { clock: systemClock })).toEqual({ locked: true });
    await callUnlockSocket(dir, key.reveal(), { clock: systemClock });
    await running;
    expect(wait.keys.locked).toBe(false);
    expect(await socketExists(dir)).toBe(false);
  });

  it("gives up when stopped while locked", async () => {
    const dir = await dataDir(UnlockKey.generate());
    const wait = new UnlockWait({ clock: systemClock, dataDir: dir, logger: silentLogger() });
    const controller = new AbortController();
    const running = wait.run(controller.signal);
    await untilSocket(dir);
    controller.abort(new Error("stopping"));
    await expect(running).rejects.toThrow("stopping");
    await wait.stop();
    await wait.stop();
    expect(await socketExists(dir)).toBe(false);
  });
});
