// The first manager's CA at init: root, own certificate, tokens, admin client files.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pki, readCertFiles } from "@shoal/shared";
import { afterEach, describe, expect, it } from "vitest";
import { initClusterCa } from "../../src/ca/cluster-init.js";
import { currentDigest } from "../../src/ca/root-ca.js";
import { CLUSTER_ID } from "./fixtures.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("initClusterCa", () => {
  it("makes the root, the manager's own certificate, tokens pinning the root, and the admin client files", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "shoal-init-"));
    dirs.push(dataDir);
    const now = Date.now();
    const init = await initClusterCa({ clusterId: CLUSTER_ID, nodeId: "m1", dataDir, now, hosts: ["10.0.0.1"] });

    const roots = Buffer.from(init.rootCa.caCert).toString();
    expect(init.material.identity).toMatchObject({ nodeId: "m1", role: "manager", clusterId: CLUSTER_ID });
    await expect(
      pki.verifyCertificateChain(init.material.files.certChainPem, { roots: [roots], now, usage: "server" }),
    ).resolves.toMatchObject({ role: "manager" });
    expect(await readCertFiles(join(dataDir, "certificates"))).toEqual(init.material.files);

    for (const token of [init.joinTokens.worker, init.joinTokens.manager]) {
      expect(() => pki.verifyCaAgainstToken(roots, token)).not.toThrow();
    }
    expect(pki.joinTokenRole(init.joinTokens.manager, init.joinTokens, currentDigest(init.rootCa))).toBe("manager");

    const clientDir = join(dataDir, "client");
    expect(await readCertFiles(clientDir)).toEqual(init.admin);
    await expect(
      pki.verifyCertificateChain(init.admin.certChainPem, { roots: [roots], now, roles: ["client"], usage: "client" }),
    ).resolves.toMatchObject({ nodeId: "admin" });
    expect((await stat(clientDir)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(clientDir)) expect((await stat(join(clientDir, name))).mode & 0o777).toBe(0o600);
    // The key is secret: it does not leak through JSON of what init returns to log.
    expect(JSON.stringify(init.material)).not.toContain("PRIVATE KEY");
  });
});
