// Every manager follows the cluster's autolock from its replica. The unlock key is read here from a
// label (the manager reads Cluster.unlock_key): the follower's logic does not depend on where it is.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataKey } from "@shoal/raft";
import { Cluster, ManualClock, silentLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { AutolockFollower } from "../../src/encryption/autolock-follower.js";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { UnlockKey } from "../../src/encryption/unlock-key.js";
import { MemoryStore } from "../../src/state/store/index.js";
import { settle } from "../orchestrator/helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const unlockKeyOf = (c: Cluster | undefined): Uint8Array | undefined => {
  const text = c?.spec?.annotations?.labels["unlock"];
  return text === undefined || text === "" ? undefined : Buffer.from(text, "base64");
};

async function setup(initial: UnlockKey | undefined) {
  const dir = await mkdtemp(join(tmpdir(), "shoal-autolock-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const store = new MemoryStore();
  const cluster = (k: UnlockKey | undefined) =>
    Cluster.fromPartial({
      id: "c1",
      spec: { annotations: { name: "default", labels: k ? { unlock: k.bytes().toString("base64") } : {} } },
    });
  await store.update((tx) => tx.clusters.create(cluster(initial)));
  const keys = await RaftKeys.open(dir, { info: () => undefined });
  const rotations: DataKey[] = [];
  const follower = new AutolockFollower({
    store,
    keys,
    unlockKeyOf,
    rotateDataKey: (k) => Promise.resolve(void rotations.push(k)),
    clock: new ManualClock(1_000_000),
    logger: silentLogger(),
  });
  cleanups.push(() => follower.stop());
  const set = async (k: UnlockKey | undefined): Promise<void> => {
    await store.update((tx) => {
      const c = tx.clusters.get("c1")!;
      tx.clusters.update({ ...cluster(k), meta: c.meta });
    });
  };
  /** Lets the follower read the commits (in event-loop turns, not time), then waits for its pass. */
  const settled = async (): Promise<void> => {
    await settle();
    await follower.settled();
  };
  return { dir, keys, follower, rotations, set, settled };
}

describe("AutolockFollower", () => {
  it("wraps the keys when autolock turns on (one DEK rotation), re-wraps on a new key, unwraps when off", async () => {
    const { dir, keys, follower, rotations, set, settled } = await setup(undefined);
    follower.start();
    await settled();
    expect(keys.autolocked).toBe(false);

    const first = UnlockKey.generate();
    await set(first);
    await settled();
    expect(keys.autolocked).toBe(true);
    expect(rotations).toHaveLength(1);
    expect(rotations[0]!.id).toBe(keys.keyIds()!.current);
    const locked = await RaftKeys.open(dir, { info: () => undefined });
    expect(locked.locked).toBe(true);
    locked.unlock(first);

    const second = UnlockKey.generate();
    await set(second);
    await settled();
    expect(rotations).toHaveLength(1);
    const relocked = await RaftKeys.open(dir, { info: () => undefined });
    expect(() => relocked.unlock(first)).toThrow(/invalid unlock key/);
    relocked.unlock(second);

    await set(undefined);
    await settled();
    expect(keys.autolocked).toBe(false);
    expect((await RaftKeys.open(dir, { info: () => undefined })).locked).toBe(false);
  });

  it("at start, applies autolock on from the store but never turns it off from a view that may be stale", async () => {
    const key = UnlockKey.generate();
    const on = await setup(key);
    on.follower.start();
    await on.settled();
    expect(on.keys.autolocked).toBe(true);

    const off = await setup(undefined);
    await off.keys.setUnlockKey(key); // applied before a restart whose replay has not caught up yet
    off.follower.start();
    await off.settled();
    expect(off.keys.autolocked).toBe(true);
    await off.set(undefined); // a commit that says so
    await off.settled();
    expect(off.keys.autolocked).toBe(false);
  });
});
