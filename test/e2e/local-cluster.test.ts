// `shoal up` and `shoal down` as a user runs them: three managers and three agents on this
// machine's real Docker daemon, started in the background, reported by `shoal node ls`.
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
const managers = ["127.0.0.1:4391", "127.0.0.1:4392", "127.0.0.1:4393"];

async function shoalRun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(shoal, args, { timeout: 90_000 })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const pidOf = async (dir: string, name: string): Promise<number> =>
  Number(await readFile(join(dir, `${name}.pid`), "utf8"));

describe("local cluster (shoal up / down) on the real Docker daemon", () => {
  let dir = "";
  const pids: number[] = [];

  beforeAll(async () => {
    if (!existsSync(shoal)) throw new Error(`${shoal} is missing: run scripts/setup.sh first`);
    const docker = await run("docker", ["version", "--format", "{{.Server.Version}}"]).catch(() => undefined);
    if (!docker) throw new Error("no Docker daemon answers: scripts/setup.sh starts one (as root)");
    dir = join(await mkdtemp(join(tmpdir(), "shoal-up-")), "cluster");
    // The admin client certificate the first manager writes (shoal up prints it): the next commands' own.
    process.env["SHOAL_TLS_DIR"] = join(dir, "manager-1", "client");
  });

  afterAll(async () => {
    await shoalRun("down", "--dir", dir);
    for (const pid of pids) if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("starts three managers, each with an agent as its node, and shows them as ready manager nodes", async () => {
    const up = await shoalRun("up", "--detach", "--dir", dir, "--listen", managers[0]!);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(
      `export SHOAL_MANAGER=${managers.join(",")} SHOAL_TLS_DIR=${join(dir, "manager-1", "client")}`,
    );
    for (const name of ["manager-1", "manager-2", "manager-3", "agent-1", "agent-2", "agent-3"]) {
      pids.push(await pidOf(dir, name));
    }
    const engine = (await run("docker", ["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    const ls = await shoalRun("node", "ls", "--json", "--manager", managers.join(","));
    expect(ls.code).toBe(0);
    const nodes = JSON.parse(ls.stdout) as { hostname: string; status: string; availability: string; role: string }[];
    expect(nodes).toHaveLength(3);
    expect(nodes.every((n) => n.status === "ready" && n.availability === "active" && n.role === "manager")).toBe(true);
    const table = await shoalRun("node", "ls", "--manager", managers[2]!);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/,
    );
    expect(table.stdout).toContain(engine);
    expect(table.stdout.match(/\sLeader\s/g)).toHaveLength(1);
    expect(table.stdout.match(/\sReachable\s/g)).toHaveLength(2);
    const status = await shoalRun("cluster", "status", "--json", "--manager", managers[1]!);
    expect((JSON.parse(status.stdout) as { raft: { members: unknown[] } }).raft.members).toHaveLength(3);
  });

  it("running `shoal up` again finds the cluster running and starts nothing new", async () => {
    const again = await shoalRun("up", "--detach", "--dir", dir, "--listen", managers[0]!);
    expect(again.code).toBe(0);
    expect(await pidOf(dir, "manager-1")).toBe(pids[0]);
    expect(await pidOf(dir, "agent-3")).toBe(pids[5]);
  });

  it("shows a node down about three heartbeats after its agent is killed", async () => {
    process.kill(pids[3]!, "SIGKILL");
    const killedAt = Date.now();
    await expect
      .poll(
        async () => {
          const out = await shoalRun("node", "ls", "--json", "--manager", managers.join(","));
          return (JSON.parse(out.stdout || "[]") as { status: string }[]).filter((n) => n.status === "down").length;
        },
        { timeout: 10_000, interval: 250 },
      )
      .toBe(1);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
  });

  it("`shoal down` stops every process and removes the state; clients then get a clear error", async () => {
    const down = await shoalRun("down", "--dir", dir);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`stopped manager-1 (pid ${pids[0]})`);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const ls = await shoalRun("node", "ls", "--manager", managers[0]!);
    expect(ls.code).not.toBe(0);
    // The admin client certificate went with the state: that is what the command says first.
    expect(ls.stderr).toContain(`${join(dir, "manager-1", "client")} holds no client certificate`);
  });
});

describe("shoal up in the foreground", () => {
  it("runs until Ctrl-C, then stops its managers and agents and keeps their state", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "shoal-up-fg-")), "cluster");
    const { spawn } = await import("node:child_process");
    const child = spawn(shoal, ["up", "--managers", "1", "--agents", "1", "--dir", dir, "--listen", "127.0.0.1:4397"]);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 60_000, interval: 200 }).toContain("Stop:    Ctrl-C");
      const pids = [await pidOf(dir, "manager-1"), await pidOf(dir, "agent-1")];
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toContain(`stopped manager-1 (pid ${pids[0]})`);
      for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
      expect(existsSync(join(dir, "manager-1", "identity.json"))).toBe(true);
    } finally {
      child.kill("SIGKILL");
      await shoalRun("down", "--dir", dir);
      await rm(join(dir, ".."), { recursive: true, force: true });
    }
  });
});
