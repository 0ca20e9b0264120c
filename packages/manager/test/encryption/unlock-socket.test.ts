import { mkdtemp, rm, stat } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { UnlockKey } from "../../src/encryption/unlock-key.js";
import { UnlockSocket, callUnlockSocket, unlockSocketPath } from "../../src/encryption/unlock-socket.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function lockedManager(): Promise<{ dir: string; unlock: UnlockKey; keys: RaftKeys; socket: UnlockSocket }> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-unlock-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const unlock = UnlockKey.generate();
  await (await RaftKeys.open(dir, { info: () => undefined })).setUnlockKey(unlock);
  const keys = await RaftKeys.open(dir, { info: () => undefined });
  const socket = new UnlockSocket({
    dataDir: dir,
    logger: silentLogger(),
    unlock: (k) => Promise.resolve(keys.unlock(k)),
  });
  await socket.start();
  cleanups.push(() => socket.stop());
  return { dir, unlock, keys, socket };
}

describe("UnlockSocket", () => {
  it("reports locked; refuses a wrong or malformed key; unlocks with the right one", async () => {
    const { dir, unlock, keys, socket } = await lockedManager();
    expect((await stat(unlockSocketPath(dir))).mode & 0o777).toBe(0o600);
    expect(await callUnlockSocket(dir, undefined)).toEqual({ locked: true });
    await expect(callUnlockSocket(dir, UnlockKey.generate().reveal())).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/invalid unlock key/),
    });
    await expect(callUnlockSocket(dir, "SWMKEY-1-nope")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(keys.locked).toBe(true);
    expect(await callUnlockSocket(dir, unlock.reveal())).toEqual({ locked: false });
    expect(keys.locked).toBe(false);
    await socket.unlocked;
    expect(await callUnlockSocket(dir, undefined)).toEqual({ locked: false });
  });

  it("refuses garbage and oversized requests, and says clearly when no manager is locked", async () => {
    const { dir } = await lockedManager();
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const s = createConnection(unlockSocketPath(dir));
        let out = "";
        s.on("connect", () => s.write(text));
        s.on("data", (d: Buffer) => (out += d.toString()));
        s.on("close", () => resolve(out));
        s.on("error", () => resolve(out));
      });
    expect(JSON.parse(await raw("not json\n"))).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(JSON.parse(await raw('{"op":"drop"}\n'))).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(JSON.parse(await raw("x".repeat(5000)))).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    const empty = await mkdtemp(join(tmpdir(), "shoal-unlock-none-"));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    await expect(callUnlockSocket(empty, undefined)).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
  });
});
