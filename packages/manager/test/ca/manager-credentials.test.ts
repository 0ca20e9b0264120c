import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, silentLogger, systemClock } from "@shoal/shared";
import { ManagerCredentials } from "../../src/ca/manager-credentials.js";
import { loadIdentity } from "../../src/identity.js";

let dataDir = "";
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-credentials-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("ManagerCredentials", () => {
  it("founding: makes the CA and this manager's certificate under its node and cluster ids", async () => {
    const { identity } = await loadIdentity(dataDir);
    const credentials = new ManagerCredentials({
      clock: systemClock,
      dataDir,
      identity: { loaded: identity, member: false },
      listen: "10.0.0.5:4242",
      logger: silentLogger(),
    });
    expect(credentials.current).toBeUndefined();
    expect(() => credentials.material).toThrow(/not made yet/);
    await credentials.run(new AbortController().signal);
    expect(credentials.nodeId).toBe(identity.nodeId);
    expect(credentials.clusterId).toBe(identity.clusterId);
    expect(credentials.material.identity).toMatchObject({ nodeId: identity.nodeId, role: "manager" });
    expect(credentials.current).toBe(credentials.material);
    expect(credentials.founded?.joinTokens.manager).toMatch(/^SWMTKN-/);
    credentials.stop();
  });

  it("restarting a member: reads its certificate, founds nothing", async () => {
    const { identity } = await loadIdentity(dataDir);
    await new ManagerCredentials({
      clock: systemClock,
      dataDir,
      identity: { loaded: identity, member: false },
      listen: "127.0.0.1:0",
      logger: silentLogger(),
    }).run(new AbortController().signal);
    const again = new ManagerCredentials({
      clock: systemClock,
      dataDir,
      identity: { loaded: { ...identity, raftId: 7 }, member: true },
      listen: "127.0.0.1:0",
      logger: silentLogger(),
    });
    await again.run(new AbortController().signal);
    expect(again.nodeId).toBe(identity.nodeId);
    expect(again.founded).toBeUndefined();
  });

  it("a member without certificate files cannot start", async () => {
    const { identity } = await loadIdentity(dataDir);
    const credentials = new ManagerCredentials({
      clock: systemClock,
      dataDir,
      identity: { loaded: { ...identity, raftId: 7 }, member: true },
      listen: "127.0.0.1:0",
      logger: silentLogger(),
    });
    await expect(credentials.run(new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
    });
  });
});
