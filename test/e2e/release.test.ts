// The release artifact, installed as a user would: `pnpm run release` packs it, `npm install -g
// --prefix` installs it into an empty folder (offline: it has no dependencies to fetch), and the
// installed `shoal` runs a manager and an agent on this machine's Docker daemon and a service on
// them. Every command runs from the installed copy, outside the workspace, with a PATH that holds
// only the install's bin and the system's.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./support/shoal-process.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let dir = "";
let env: NodeJS.ProcessEnv = {};
const daemons: ChildProcess[] = [];
let agentNode = "";

/** Runs the installed `shoal` and returns its standard output. */
async function shoal(...args: string[]): Promise<string> {
  const { stdout } = await run(join(dir, "prefix", "bin", "shoal"), args, { env, cwd: dir, timeout: 60_000 });
  return stdout;
}

function daemon(name: string, args: string[]): void {
  const log = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(join(dir, "prefix", "bin", "shoal"), args, { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  daemons.push(child);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-release-"));
  env = {
    PATH: `${join(dir, "prefix", "bin")}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    npm_config_cache: join(dir, "npm-cache"),
    // The admin client certificate the manager writes when it founds the cluster.
    SHOAL_TLS_DIR: join(dir, "manager", "client"),
  };
  await run("bash", [join(ROOT, "scripts/release.sh")], { cwd: ROOT, timeout: 120_000 });
});

afterAll(async () => {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill("SIGKILL");
  if (agentNode !== "") {
    const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=com.shoal.node.id=${agentNode}`]);
    const ids = stdout.split("\n").filter(Boolean);
    if (ids.length > 0) await run("docker", ["rm", "-f", ...ids]).catch(() => undefined);
  }
  if (process.env["KEEP_TEST_DIRS"] === undefined && dir !== "") await rm(dir, { recursive: true, force: true });
});

describe("the release artifact", () => {
  it("installs with npm alone and runs a cluster from the installed command", async () => {
    const version = (JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8")) as { version: string })
      .version;
    const tgz = join(ROOT, "dist/release", `shoal-${version}.tgz`);
    const size = (await stat(tgz)).size;
    const started = Date.now();
    await run("npm", ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", join(dir, "prefix"), tgz], {
      env,
      cwd: dir,
      timeout: 120_000,
    });
    const installMs = Date.now() - started;
    console.log(`release: shoal-${version}.tgz ${(size / 1024).toFixed(0)} KiB, npm install -g took ${installMs} ms`);
    expect(size).toBeLessThan(5 * 1024 * 1024);

    // Nothing but the one package, with no dependencies beside it.
    const { stdout: tree } = await run("ls", [join(dir, "prefix", "lib", "node_modules")]);
    expect(tree.trim().split("\n")).toEqual(["shoal"]);
    expect((await shoal("--version")).trim()).toBe(version);

    const addr = `127.0.0.1:${await freePort()}`;
    daemon("manager", ["manager", "--listen", addr, "--data-dir", join(dir, "manager"), "--unsafe-no-fsync"]);
    let token = "";
    await expect
      .poll(async () => (token = (await shoal("cluster", "join-token", "worker", "-q", "--manager", addr)).trim()), {
        timeout: 30_000,
        interval: 300,
      })
      .toMatch(/^SWMTKN-/);
    daemon("agent", [
      "agent",
      "--manager",
      addr,
      "--token",
      token,
      "--data-dir",
      join(dir, "agent"),
      "--hostname",
      "release-agent",
    ]);
    await expect
      .poll(async () => shoal("node", "ls", "--manager", addr).catch(() => ""), { timeout: 30_000, interval: 300 })
      .toMatch(/release-agent\s+Ready/);
    const nodes = JSON.parse(await shoal("node", "ls", "--json", "--manager", addr)) as { id: string }[];
    agentNode = nodes[0]?.id ?? "";

    // `service create` waits until the task runs.
    await shoal("service", "create", "--name", "smoke", "--manager", addr, "shoal-base:1", "sleep", "600");
    const ps = await shoal("service", "ps", "smoke", "--manager", addr);
    expect(ps).toMatch(/Running/);
    await shoal("service", "rm", "smoke", "--manager", addr);
  });
});
