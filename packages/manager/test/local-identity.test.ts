import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, silentLogger } from "@shoal/shared";
import { saveIdentity } from "../src/identity.js";
import { LocalIdentity } from "../src/local-identity.js";

let dataDir = "";
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "shoal-local-identity-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const identity = (options: { join?: string; forceNewCluster?: boolean } = {}): LocalIdentity =>
  new LocalIdentity({ dataDir, logger: silentLogger(), ...options });

describe("LocalIdentity", () => {
  it("makes the identity of a new data dir: not a member", async () => {
    const local = identity();
    expect(() => local.loaded).toThrow(/not loaded yet/);
    await local.run();
    expect(local.loaded.raftId).toBe(0);
    expect(local.member).toBe(false);
    local.stop();
  });

  it("reads a member's identity", async () => {
    await saveIdentity(dataDir, { nodeId: "n1", raftId: 7, clusterId: "c1" });
    const local = identity({ join: "10.0.0.1:4242" });
    await local.run();
    expect(local.loaded).toEqual({ nodeId: "n1", raftId: 7, clusterId: "c1" });
    expect(local.member).toBe(true);
  });

  it("refuses --force-new-cluster on a data dir that was never a member", async () => {
    await expect(identity({ forceNewCluster: true }).run()).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringMatching(/^--force-new-cluster needs the data dir of a manager/),
    });
  });

  it("refuses --force-new-cluster with --join", async () => {
    await saveIdentity(dataDir, { nodeId: "n1", raftId: 7, clusterId: "c1" });
    await expect(identity({ forceNewCluster: true, join: "10.0.0.1:4242" }).run()).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: "--force-new-cluster and --join do not go together",
    });
  });
});
