// Mutual TLS as an operator meets it, with real processes: the CLI needs a client certificate
// (and says so), issues and revokes others; the Docker API takes `docker --tlsverify` with
// DOCKER_CERT_PATH and nothing less; and with 1-minute certificates (--cert-expiry 1m, the
// floor) the manager and an agent renew theirs by themselves several times while the agent's
// session stays open. (Refusals of nodes, tokens and forged certificates: test/integration/security.test.ts.)
import { execFile } from "node:child_process";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeState, TlsMaterial, readCertFiles } from "@shoal/shared";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { dockerApiAddress } from "./support/docker-api.js";
import { startLocalAgent } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const run = promisify(execFile);
let root = "";
let addr = "";
let dockerHost = "";
const procs: ShoalProcess[] = [];
const control = new TestControl();

async function shoal(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 30_000, env: { ...process.env, ...env } });
    return { code: 0, ...out };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function docker(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run("docker", args, { timeout: 30_000, env: { ...process.env, DOCKER_CONFIG: root, ...env } });
    return { code: 0, ...out };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const serialOf = async (dir: string): Promise<string> =>
  new TlsMaterial((await readCertFiles(dir))!).identity.serialNumber;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-security-"));
  addr = `127.0.0.1:${await freePort()}`;
  const manager = new ShoalProcess(
    [
      "manager",
      "--listen",
      addr,
      "--data-dir",
      join(root, "m0"),
      "--cert-expiry",
      "1m",
      "--docker-api",
      "127.0.0.1:0",
      "--unsafe-no-fsync",
    ],
    join(root, "m0.log"),
  );
  manager.start();
  procs.push(manager);
  const agent = await startLocalAgent({
    control,
    managers: [addr],
    token: (await joinTokens(control, addr)).worker,
    hostname: "sec-agent",
    dataDir: join(root, "a0"),
    logFile: join(root, "a0.log"),
  });
  procs.push(agent.proc);
  dockerHost = `tcp://${await dockerApiAddress(join(root, "m0.log"))}`;
});

afterAll(async () => {
  control.close();
  for (const p of procs) await p.kill("SIGKILL");
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("mutual TLS for operators", () => {
  it("the CLI says what to do without a client certificate, and works with one", async () => {
    const none = await shoal(["node", "ls", "--manager", addr], { SHOAL_TLS_DIR: "" });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("no client certificate: give its directory with --tls-dir DIR or SHOAL_TLS_DIR=DIR");
    const ok = await shoal(["node", "ls", "--manager", addr, "--tls-dir", testClientCertDir()], { SHOAL_TLS_DIR: "" });
    expect(ok.stdout).toMatch(/sec-agent\s+Ready/);
  });

  it("issues a client certificate (key made by the CLI) and revokes it", async () => {
    const out = join(root, "ops");
    const issued = await shoal(["cluster", "client-cert", "ops", "--out", out, "--manager", addr]);
    expect(issued.stdout).toContain(`client certificate ops (serial `);
    const files = (await readCertFiles(out))!;
    expect(new TlsMaterial(files).identity).toMatchObject({ nodeId: "ops", role: "client" });
    expect((await shoal(["service", "ls", "--manager", addr, "--tls-dir", out])).code).toBe(0);
    const revoked = await shoal(["cluster", "client-cert", "ops", "--revoke", "--manager", addr]);
    expect(revoked.stdout).toBe("revoked 1 certificate(s) of ops\n");
    const refused = await shoal(["service", "ls", "--manager", addr, "--tls-dir", out]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/client certificate ops \(serial [0-9a-f]+\) has been revoked/);
  });

  it("the Docker API takes docker --tlsverify with DOCKER_CERT_PATH, and refuses plain HTTP", async () => {
    const tls = await docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"], {
      DOCKER_HOST: dockerHost,
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: testClientCertDir(),
    });
    expect(tls.stderr).toBe("");
    // The agent's node, and the manager's (a node too, named by its host while no agent runs there).
    expect(tls.stdout.trim().split("\n").sort()).toEqual(["127.0.0.1 Ready", "sec-agent Ready"]);
    const plain = await docker(["node", "ls"], { DOCKER_HOST: dockerHost });
    expect(plain.code).not.toBe(0);
  });
});

describe("renewal", () => {
  it("with 1-minute certificates, the manager and the agent renew twice without the session dropping", async () => {
    const agentDir = join(root, "a0", "certificates");
    const managerDir = join(root, "m0", "certificates");
    const seen = { agent: [await serialOf(agentDir)], manager: [await serialOf(managerDir)] };
    const changes: number[] = [];
    const started = Date.now();
    await waitUntil(
      "two renewals of each",
      async () => {
        for (const [who, dir] of [
          ["agent", agentDir],
          ["manager", managerDir],
        ] as const) {
          const serial = await serialOf(dir).catch(() => "");
          const list = seen[who];
          if (serial !== "" && serial !== list[list.length - 1]) {
            list.push(serial);
            if (who === "agent") changes.push(Date.now() - started);
          }
        }
        return seen.agent.length >= 3 && seen.manager.length >= 3;
      },
      170_000,
    );
    console.log(
      `renewal: agent certificate renewed after ${changes.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ")}`,
    );
    // Still one session since the agent started, and the node ready.
    const log = await readFile(join(root, "a0.log"), "utf8");
    expect(log.match(/"msg":"session open"/g)).toHaveLength(1);
    const { nodes } = await control.call(addr, "listNodes", { filters: undefined });
    const agent = nodes.find((n) => n.description?.hostname === "sec-agent");
    expect(agent?.status?.state).toBe(NodeState.READY);
    expect(agent?.certificate?.serialNumber).toBe(seen.agent[seen.agent.length - 1]);
    // The CLI keeps working against the renewed manager certificate.
    expect((await shoal(["node", "ls", "--manager", addr])).stdout).toMatch(/sec-agent\s+Ready/);
  }, 200_000);
});
