import { mkdtemp, rm, stat } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { UnlockKey } from "../../src/encryption/unlock-key.js";
import { UnlockSocket, callUnlockSocket, unlockSocketPath } from "../../src/encryption/unlock-socket.js";
import { settle } from "../orchestrator/helpers.js";

/** Socket idle time (unlock-socket.ts IDLE_MS). */
const IDLE_MS = 10_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function lockedManager(): Promise<{
  dir: string;
  unlock: UnlockKey;
  keys: RaftKeys;
  socket: UnlockSocket;
  clock: ManualClock;
}> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-unlock-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const unlock = UnlockKey.generate();
  await (await RaftKeys.open(dir, { info: () => undefined })).setUnlockKey(unlock);
  const keys = await RaftKeys.open(dir, { info: () => undefined });
  const clock = new ManualClock(0);
  const socket = new UnlockSocket({
    dataDir: dir,
    clock,
    logger: silentLogger(),
    unlock: (k) => Promise.resolve(keys.unlock(k)),
  });
  await socket.start();
  cleanups.push(() => socket.stop());
  return { dir, unlock, keys, socket, clock };
}

describe("UnlockSocket", () => {
  it("reports locked; refuses a wrong or malformed key; unlocks with the right one", async () => {
    const { dir, unlock, keys, socket, clock } = await lockedManager();
    const call = (key: string | undefined) => callUnlockSocket(dir, key, { clock });
    expect((await stat(unlockSocketPath(dir))).mode & 0o777).toBe(0o600);
    expect(await call(undefined)).toEqual({ locked: true });
    await expect(call(UnlockKey.generate().reveal())).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/invalid unlock key/),
    });
    await expect(call("SWMKEY-1-nope")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(keys.locked).toBe(true);
    expect(await call(unlock.reveal())).toEqual({ locked: false });
    expect(keys.locked).toBe(false);
    await socket.unlocked;
    expect(await call(undefined)).toEqual({ locked: false });
  });

  it("refuses garbage and oversized requests, and says clearly when no manager is locked", async () => {
    const { dir, clock } = await lockedManager();
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
    await expect(callUnlockSocket(empty, undefined, { clock })).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
  });

  it("closes a connection that stays silent for IDLE_MS of its clock", async () => {
    const { dir, clock } = await lockedManager();
    const s = createConnection(unlockSocketPath(dir));
    s.on("error", () => undefined);
    let closed = false;
    s.on("close", () => (closed = true));
    await new Promise<void>((resolve) => s.once("connect", () => resolve()));
    await settle();
    clock.advance(IDLE_MS - 1);
    await settle();
    expect(closed).toBe(false);
    s.write("{");
    await settle();
    clock.advance(IDLE_MS - 1); // data came: the wait starts again
    await settle();
    expect(closed).toBe(false);
    clock.advance(1);
    await new Promise<void>((resolve) => (closed ? resolve() : s.once("close", () => resolve())));
  });

  it("gives up on a socket that does not answer within IDLE_MS of the caller's clock", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-unlock-mute-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const held = new Set<Socket>();
    const mute = createServer((c) => void held.add(c));
    await new Promise<void>((resolve) => mute.listen(unlockSocketPath(dir), () => resolve()));
    cleanups.push(() => {
      for (const c of held) c.destroy();
      return new Promise<void>((resolve) => mute.close(() => resolve()));
    });
    const clock = new ManualClock(0);
    const answer = callUnlockSocket(dir, undefined, { clock });
    answer.catch(() => undefined);
    await settle();
    clock.advance(IDLE_MS);
    await expect(answer).rejects.toMatchObject({ code: "DEADLINE_EXCEEDED" });
  });
});
