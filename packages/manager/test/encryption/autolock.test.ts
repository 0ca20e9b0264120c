import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Cluster, silentLogger, systemClock } from "@shoal/shared";
import { Autolock } from "../../src/encryption/autolock.js";
import { RaftKeys } from "../../src/encryption/raft-keys.js";
import { UnlockKey } from "../../src/encryption/unlock-key.js";
import { MemoryStore } from "../../src/state/store/index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("Autolock", () => {
  it("follows the cluster's unlock key from the store until stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-autolock-part-"));
    dirs.push(dir);
    const keys = await RaftKeys.open(dir, { info: () => undefined });
    const store = new MemoryStore();
    await store.update((tx) =>
      tx.clusters.create(
        Cluster.fromPartial({
          id: "c1",
          spec: { annotations: { name: "default" }, encryptionConfig: { autoLockManagers: true } },
          unlockKey: UnlockKey.generate().bytes(),
        }),
      ),
    );
    const autolock = new Autolock({
      clock: systemClock,
      store,
      unlock: { keys },
      rotateDataKey: () => Promise.resolve(),
      logger: silentLogger(),
    });
    await autolock.run();
    await expect.poll(() => keys.autolocked).toBe(true);
    autolock.stop();
    autolock.stop();
    store.close();
  });
});
