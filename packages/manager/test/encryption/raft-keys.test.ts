import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRaftDisk } from "@shoal/raft";
import { afterEach, describe, expect, it } from "vitest";
import { keyFilePath, ManagerLockedError, readKeyFile } from "../../src/encryption/key-file.js";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { InvalidUnlockKeyError, UnlockKey } from "../../src/encryption/unlock-key.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "shoal-keys-"));
  dirs.push(d);
  return d;
}
const logger = { info: () => undefined };

describe("RaftKeys", () => {
  it("creates a data key in clear (autolock off), mode 0600, and reads it back", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    expect(keys.locked).toBe(false);
    expect(keys.autolocked).toBe(false);
    const ring = keys.keyRing();
    expect(ring.current).toBeDefined();
    expect((await stat(keyFilePath(dir))).mode & 0o777).toBe(0o600);
    const again = await RaftKeys.open(dir, logger);
    expect(again.keyRing().current?.id).toBe(ring.current?.id);
  });

  it("autolock on: rotates the DEK, wraps both keys; a restart is locked until the right unlock key", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    const clearDek = keys.keyRing().current!;
    const unlock = UnlockKey.generate();
    const rotated = await keys.setUnlockKey(unlock);
    expect(rotated).toBeDefined();
    expect(rotated!.id).not.toBe(clearDek.id);
    expect(keys.keyIds()).toEqual({ current: rotated!.id, previous: [clearDek.id] });
    const text = await readFile(keyFilePath(dir), "utf8");
    expect(text).not.toContain(clearDek.bytes().toString("base64"));
    expect(text).not.toContain(rotated!.bytes().toString("base64"));
    expect(await setAgain(keys, unlock)).toBeUndefined();

    const restarted = await RaftKeys.open(dir, logger);
    expect(restarted.locked).toBe(true);
    expect(() => restarted.keyRing()).toThrow(ManagerLockedError);
    expect(() => restarted.unlock(UnlockKey.generate())).toThrow(InvalidUnlockKeyError);
    expect(restarted.locked).toBe(true);
    restarted.unlock(UnlockKey.parse(unlock.reveal()));
    expect(restarted.locked).toBe(false);
    expect(restarted.keyRing().current?.id).toBe(rotated!.id);
    expect(restarted.keyRing().get(clearDek.id)).toBeDefined();
  });

  it("a new unlock key re-wraps the same DEK; the old unlock key no longer opens it", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    const first = UnlockKey.generate();
    await keys.setUnlockKey(first);
    const dek = keys.keyIds()!.current;
    const second = UnlockKey.generate();
    expect(await keys.setUnlockKey(second)).toBeUndefined(); // no DEK rotation between two unlock keys
    const restarted = await RaftKeys.open(dir, logger);
    expect(() => restarted.unlock(first)).toThrow(InvalidUnlockKeyError);
    restarted.unlock(second);
    expect(restarted.keyIds()!.current).toBe(dek);
  });

  it("autolock off writes the keys in clear again; released() forgets keys no longer in use", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    const old = keys.keyIds()!.current;
    await keys.setUnlockKey(UnlockKey.generate());
    const cur = keys.keyIds()!.current;
    await keys.released(new Set([cur, old]));
    expect(keys.keyIds()!.previous).toEqual([old]);
    await keys.released(new Set([cur]));
    expect(keys.keyIds()!.previous).toEqual([]);
    await keys.setUnlockKey(undefined);
    const read = await readKeyFile(dir);
    expect(read?.locked).toBe(false);
    const restarted = await RaftKeys.open(dir, logger);
    expect(restarted.locked).toBe(false);
    expect(restarted.keyIds()).toEqual({ current: cur, previous: [] });
  });

  it("rotate() adds a new current key and keeps the old one readable", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    const old = keys.keyIds()!.current;
    const next = await keys.rotate();
    expect(keys.keyIds()).toEqual({ current: next.id, previous: [old] });
    expect((await RaftKeys.open(dir, logger)).keyIds()).toEqual({ current: next.id, previous: [old] });
  });
});

function setAgain(keys: RaftKeys, unlock: UnlockKey): Promise<unknown> {
  return keys.setUnlockKey(UnlockKey.parse(unlock.reveal()));
}

describe("RaftKeys with the Raft disk", () => {
  it("autolock on: new data sealed with the new DEK, the clear-stored DEK forgotten after a snapshot", async () => {
    const dir = await dataDir();
    const keys = await RaftKeys.open(dir, logger);
    const released: Promise<void>[] = [];
    const open = (k: RaftKeys) =>
      openRaftDisk(join(dir, "raft"), {
        keys: k.keyRing(),
        segmentBytes: 8192,
        onKeysReleased: (inUse) => void released.push(k.released(inUse)),
      });
    const disk = await open(keys);
    const entry = (i: number, text: string) => ({
      index: i,
      term: 1,
      type: "normal" as const,
      data: new TextEncoder().encode(text),
    });
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 1 }, entries: [entry(1, "before")] });
    const unlock = UnlockKey.generate();
    const rotated = await keys.setUnlockKey(unlock);
    await disk.rotateKey(rotated!);
    await disk.persist({ hardState: { term: 1, vote: 1, commit: 2 }, entries: [entry(2, "after-autolock")] });
    await disk.saveSnapshot({ data: new Uint8Array([1]), metadata: { index: 2, term: 1, confState: { voters: [1] } } });
    await Promise.all(released);
    expect(keys.keyIds()!.previous).toEqual([]);
    await disk.close();

    const restarted = await RaftKeys.open(dir, logger);
    expect(restarted.locked).toBe(true);
    restarted.unlock(unlock);
    const again = await open(restarted);
    expect(again.storage.snapshot().metadata.index).toBe(2);
    await again.close();
  });
});
