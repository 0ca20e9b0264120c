// A manager's certificate at start-up, for the case `shoal join` makes: a joining manager (not a
// member yet, --join given) whose data dir holds a certificate already starts with it, without
// joining the CA again (which would make another node); one that is not a manager's is refused.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, ManualClock, createLogger } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { initClusterCa } from "../../src/ca/cluster-init.js";
import { managerCertificate, nodeCertDir } from "../../src/ca/manager-certificate.js";
import { CLUSTER_ID } from "./fixtures.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-manager-cert-"));
  dirs.push(dir);
  return dir;
}

/** A data dir of a manager about to join, holding the files of `from` as its certificate. */
async function joiningWith(from: string): Promise<string> {
  const dataDir = await tempDir();
  await cp(from, nodeCertDir(dataDir), { recursive: true });
  return dataDir;
}

const options = (dataDir: string) =>
  ({
    dataDir,
    nodeId: "ignored",
    clusterId: "ignored",
    member: false,
    // Nothing listens there: the certificate in the data dir must be used without a call.
    join: { addr: "127.0.0.1:1", token: "" },
    hosts: [],
    clock: new ManualClock(Date.now()),
    logger: createLogger({ level: "silent" }),
  }) as const;

describe("managerCertificate, joining", () => {
  it("starts with the manager certificate already in the data dir", async () => {
    const founder = await tempDir();
    const init = await initClusterCa({
      clusterId: CLUSTER_ID,
      nodeId: "m2",
      dataDir: founder,
      now: Date.now(),
      hosts: [],
    });
    const cert = await managerCertificate(options(await joiningWith(nodeCertDir(founder))));
    expect(cert).toMatchObject({ nodeId: "m2", clusterId: CLUSTER_ID });
    expect(cert.material.files).toEqual(init.material.files);
    expect(cert.founded).toBeUndefined();
  });

  it("refuses a certificate of another role there", async () => {
    const founder = await tempDir();
    await initClusterCa({ clusterId: CLUSTER_ID, nodeId: "m2", dataDir: founder, now: Date.now(), hosts: [] });
    await expect(managerCertificate(options(await joiningWith(join(founder, "client"))))).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringContaining("holds a client certificate: a manager joins with a manager certificate"),
    });
  });
});
