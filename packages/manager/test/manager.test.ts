// The composition root over its real components: a founding manager up and down, a locked one
// stopped while it waits, and one that cannot come up.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, silentLogger } from "@shoal/shared";
import { RaftKeys } from "../src/encryption/raft-keys.js";
import { UnlockKey } from "../src/encryption/unlock-key.js";
import { unlockSocketPath } from "../src/encryption/unlock-socket.js";
import { Manager } from "../src/manager.js";

let dataDir = "";
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-manager-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("Manager", () => {
  it("founds a cluster, leads it, and stops (idempotently)", async () => {
    const m = new Manager({ listen: "127.0.0.1:0", dataDir, logger: silentLogger(), raft: { tickMs: 20 } });
    expect(m.address).toBe("");
    expect(m.raft).toBeUndefined();
    await m.start();
    expect(m.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(m.identity?.raftId).toBeGreaterThan(0);
    expect(m.tls?.identity.role).toBe("manager");
    expect(m.dockerApiAddress).toBe("");
    expect(m.metricsAddress).toBe("");
    await expect.poll(() => m.raft?.isLeader).toBe(true);
    await Promise.all([m.stop(), m.stop()]);
    await m.stop();
  });

  it("stopped while locked (autolock): start() resolves, the unlock socket is gone", async () => {
    const keys = await RaftKeys.open(dataDir, { info: () => undefined });
    await keys.setUnlockKey(UnlockKey.generate());
    const m = new Manager({ listen: "127.0.0.1:0", dataDir, logger: silentLogger() });
    const started = m.start();
    await expect.poll(() => exists(unlockSocketPath(dataDir))).toBe(true);
    await m.stop();
    await expect(started).resolves.toBeUndefined();
    expect(await exists(unlockSocketPath(dataDir))).toBe(false);
    expect(m.address).toBe("");
    expect(m.raft).toBeUndefined();
  });

  it("that cannot come up rejects with the cause, having stopped what started", async () => {
    const m = new Manager({ listen: "0.0.0.0:0", dataDir, logger: silentLogger() });
    await expect(m.start()).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: expect.stringMatching(/^--advertise is needed/),
    });
    expect(m.raft).toBeUndefined();
    await m.stop();
  });
});
