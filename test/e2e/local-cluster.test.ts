// `shoal up` and `shoal down` as a user runs them: a manager and an agent on this machine's real
// Docker daemon, started in the background, reported by `shoal node ls`.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isProcessAlive } from "@shoal/shared";

const run = promisify(execFile);
const shoal = fileURLToPath(new URL("../../node_modules/.bin/shoal", import.meta.url));
const listen = "127.0.0.1:4391";

async function shoalRun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(shoal, args, { timeout: 60_000 })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("local cluster (shoal up / down) on the real Docker daemon", () => {
  let dir = "";
  const pids: number[] = [];

  beforeAll(async () => {
    if (!existsSync(shoal)) throw new Error(`${shoal} is missing: run scripts/setup.sh first`);
    const docker = await run("docker", ["version", "--format", "{{.Server.Version}}"]).catch(() => undefined);
    if (!docker) throw new Error("no Docker daemon answers: scripts/setup.sh starts one (as root)");
    dir = await mkdtemp(join(tmpdir(), "shoal-up-"));
  });

  afterAll(async () => {
    await shoalRun("down", "--dir", dir);
    for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("starts a manager and an agent and shows this host as a ready node with its engine version", async () => {
    const up = await shoalRun("up", "--dir", dir, "--listen", listen);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    for (const role of ["manager", "agent"]) pids.push(Number(await readFile(join(dir, `${role}.pid`), "utf8")));
    const engine = (await run("docker", ["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    const ls = await shoalRun("node", "ls", "--manager", listen);
    expect(ls.code).toBe(0);
    const [header, row, ...rest] = ls.stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/);
    expect(rest).toEqual([]);
    expect(row).toMatch(new RegExp(`\\s+Ready\\s+Active\\s+${engine.replace(/[.+]/g, "\\$&")}$`));
  });

  it("running `shoal up` again finds the cluster running and starts nothing new", async () => {
    const again = await shoalRun("up", "--dir", dir, "--listen", listen);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`manager ${listen} (pid ${pids[0]})`);
    expect(again.stdout).toContain(`agent (pid ${pids[1]})`);
  });

  it("shows the node down about three heartbeats after its agent is killed", async () => {
    process.kill(pids[1]!, "SIGKILL");
    const killedAt = Date.now();
    await expect
      .poll(async () => (await shoalRun("node", "ls", "--manager", listen)).stdout, { timeout: 10_000, interval: 250 })
      .toMatch(/\sDown\s/);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
  });

  it("`shoal down` stops the processes, and clients then get a clear error", async () => {
    await shoalRun("up", "--dir", dir, "--listen", listen); // brings the agent back
    const agentPid = Number(await readFile(join(dir, "agent.pid"), "utf8"));
    pids.push(agentPid);
    const down = await shoalRun("down", "--dir", dir);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`stopped the agent (pid ${agentPid})`);
    expect(isProcessAlive(agentPid)).toBe(false);
    expect(isProcessAlive(pids[0]!)).toBe(false);
    const ls = await shoalRun("node", "ls", "--manager", listen);
    expect(ls.code).not.toBe(0);
    expect(ls.stderr).toContain(`cannot reach a manager at ${listen}`);
  });
});
