// A rolling upgrade of a 3-manager cluster, one manager at a time, from the packed release
// artifact installed with npm (as init-join.test.ts does), while a client keeps writing and
// reading. Two installs side by side: the release (version V) and a "next patch" (V+1) made from
// the same code: the tarball unpacked, its package.json and the bundle's VERSION constant bumped,
// packed again. m1 runs `shoal init --start --no-agent`, m2 and m3 `shoal join` with the manager
// token, a1 with the worker token (the one agent). A service of two replicas runs on a1. Then each
// manager in turn (followers first, the leader last, as one would do it) is stopped with SIGTERM
// and started again with the new install's shoal on the same config file and data dir; the test
// waits until it is a member with a leader in the group before the next one. All along, one write
// (scale a second service whose tasks can never be placed, so that the writes start no containers)
// and one read after another go to the managers (retrying on the next manager, as a client with
// all three addresses does, each call with a 2 s deadline): every write is acknowledged and every
// read answered within WRITE_BOUND_MS; the longest of each, printed, is the unavailability seen
// (a call that hangs until its deadline counts whole). The first service's containers stay the
// same, and at the end every manager process reports the new version (Docker API /version: the
// running process's own; GetInfo and `cluster status` carry no version).
//
// What this does not test: both binaries are built from the same code and so speak one wire
// format and one on-disk format. It tests the procedure and the availability through it; a real
// cross-version test (adjacent versions working together) needs the previous release's artifact.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host, type HostProcess } from "./harness/index.js";
import { TestControl, useClientCertDir } from "./support/control-client.js";
import { dockerApiRequest } from "./support/docker-api.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The longest a write may wait for its acknowledgement, failover retries included. */
const WRITE_BOUND_MS = 10_000;
const DOCKER_API_PORT = 2376;

let harness: Harness;
let dir = "";
let oldBin = "";
let newBin = "";
let oldVersion = "";
let newVersion = "";
let control: TestControl | undefined;
let tlsDir = "";
const restarted: HostProcess[] = [];

/** The `shoal` of an install, run inside a host. */
async function shoal(bin: string, host: Host, ...args: string[]): Promise<string> {
  const env = {
    PATH: `${dirname(bin)}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    ...(tlsDir !== "" ? { SHOAL_TLS_DIR: tlsDir } : {}),
  };
  const result = await host.exec(bin, args, { env, timeoutMs: 90_000, check: false });
  if (result.exitCode !== 0) {
    throw new Error(
      `shoal ${args.join(" ")} on ${host.name} exited ${result.exitCode}: ${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

function hostFlags(host: Host): string[] {
  const base = join(dir, host.name);
  return ["--config-dir", join(base, "etc"), "--data-root", join(base, "lib"), "--log-dir", join(base, "log")];
}

const managerOpts = ["--manager-opt", "unsafe-no-fsync", "--manager-opt", `docker-api=0.0.0.0:${DOCKER_API_PORT}`];

async function npmInstall(tgz: string, prefix: string): Promise<string> {
  await run("npm", ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tgz], {
    env: { PATH: process.env["PATH"], HOME: dir, npm_config_cache: join(dir, "npm-cache") },
    timeout: 120_000,
  });
  return join(prefix, "bin", "shoal");
}

/** The same release with the next patch version: package.json and the bundle's VERSION. */
async function nextPatch(tgz: string): Promise<string> {
  const stage = join(dir, "next");
  await mkdir(stage, { recursive: true });
  await run("tar", ["-xzf", tgz, "-C", stage]);
  const pkgDir = join(stage, "package");
  const pkg = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const [major, minor, patch] = pkg.version.split(".").map(Number) as [number, number, number];
  const next = `${major}.${minor}.${patch + 1}`;
  await writeFile(join(pkgDir, "package.json"), JSON.stringify({ ...pkg, version: next }, null, 2) + "\n");
  const bundle = await readFile(join(pkgDir, "shoal.mjs"), "utf8");
  const constant = `VERSION = "${pkg.version}"`;
  if (bundle.split(constant).length !== 2) throw new Error(`the bundle has not exactly one ${constant}`);
  await writeFile(join(pkgDir, "shoal.mjs"), bundle.replace(constant, `VERSION = "${next}"`), { mode: 0o755 });
  await run("npm", ["pack", "--silent", "--pack-destination", stage], {
    cwd: pkgDir,
    env: { PATH: process.env["PATH"], HOME: dir, npm_config_cache: join(dir, "npm-cache") },
  });
  const packed = (await readdir(stage)).find((f) => f === `shoal-${next}.tgz`);
  if (packed === undefined) throw new Error(`npm pack made no shoal-${next}.tgz`);
  return join(stage, packed);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-rolling-upgrade-"));
  let tgz = process.env["SHOAL_RELEASE_TGZ"] ?? "";
  if (tgz === "") {
    await run("bash", [join(ROOT, "scripts/release.sh")], { cwd: ROOT, timeout: 180_000 });
    const pkg = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8")) as { version: string };
    tgz = join(ROOT, "dist/release", `shoal-${pkg.version}.tgz`);
  }
  oldBin = await npmInstall(tgz, join(dir, "prefix-old"));
  newBin = await npmInstall(await nextPatch(tgz), join(dir, "prefix-new"));
  oldVersion = (await run(oldBin, ["--version"])).stdout.trim();
  newVersion = (await run(newBin, ["--version"])).stdout.trim();
  harness = await createHarness({ hosts: ["m1", "m2", "m3", "a1"], pullBaseImage: true });
}, 300_000);

afterAll(async () => {
  control?.close();
  await Promise.all(restarted.map((p) => p.stop()));
  await harness?.dispose();
  if (process.env["KEEP_TEST_DIRS"] === undefined && dir !== "") await rm(dir, { recursive: true, force: true });
});

interface Stats {
  writes: number;
  reads: number;
  failedWrites: number;
  longestWriteMs: number;
  longestReadMs: number;
  /** The manager being upgraded (leader or follower) during the longest write. */
  longestWriteDuring: string;
}

describe("a rolling upgrade of three managers", () => {
  it("keeps the cluster writable and the tasks running, and ends on the new version", async () => {
    expect(newVersion).not.toBe(oldVersion);
    const [m1, m2, m3, a1] = ["m1", "m2", "m3", "a1"].map((n) => harness.host(n)) as [Host, Host, Host, Host];
    const managers = [m1, m2, m3];
    const addr = (h: Host): string => `${h.address}:4242`;
    const all = managers.map(addr).join(",");

    const init = await shoal(oldBin, m1, "init", "--start", "--no-agent", ...hostFlags(m1), ...managerOpts);
    const token = (role: string): string =>
      new RegExp(`add a ${role} to this cluster, run on it:\\n\\n {4}shoal join --token (\\S+) `).exec(init)![1]!;
    tlsDir = join(dir, "m1", "lib", "manager", "client");
    useClientCertDir(tlsDir);
    for (const h of [m2, m3]) {
      await shoal(
        oldBin,
        h,
        "join",
        "--token",
        token("manager"),
        addr(m1),
        "--start",
        "--no-agent",
        ...hostFlags(h),
        ...managerOpts,
      );
    }
    await shoal(
      oldBin,
      a1,
      "join",
      "--token",
      token("worker"),
      addr(m1),
      "--start",
      ...hostFlags(a1),
      "--agent-opt",
      `docker-host=${a1.dockerHost}`,
      "--agent-opt",
      "hostname=a1",
      "--agent-opt",
      `manager=${all}`,
    );

    control = new TestControl();
    const c = control;
    const members = async (at: Host): Promise<number> => {
      const info = await c.call(addr(at), "getInfo", {});
      return info.leaderAddr === "" ? 0 : (info.raft?.members?.length ?? 0);
    };
    for (const h of managers) await expect.poll(() => members(h).catch(() => 0), { timeout: 30_000 }).toBe(3);

    await shoal(
      oldBin,
      a1,
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "2",
      "--manager",
      all,
      harness.baseImage,
      "sleep",
      "600",
    );
    // Its tasks can never be placed: scaling it is a write through Raft that starts no container.
    await shoal(
      oldBin,
      a1,
      "service",
      "create",
      "--name",
      "ticker",
      "--replicas",
      "0",
      "--detach",
      "--constraint",
      "node.labels.never==yes",
      "--manager",
      all,
      harness.baseImage,
      "sleep",
      "600",
    );
    const containers = async (): Promise<string[]> =>
      (await a1.docker(["ps", "-q", "--no-trunc", "--filter", "label=com.shoal.service.name=web"])).stdout
        .split("\n")
        .filter(Boolean)
        .sort();
    const before = await containers();
    expect(before).toHaveLength(2);

    // The client: a write, then a read, again and again; each tries the managers in turn until one
    // answers (the stopped one fails at once or times out), within WRITE_BOUND_MS.
    const stats: Stats = {
      writes: 0,
      reads: 0,
      failedWrites: 0,
      longestWriteMs: 0,
      longestReadMs: 0,
      longestWriteDuring: "",
    };
    let upgrading = "none";
    let stop = false;
    const withFailover = async <T>(op: (at: string) => Promise<T>): Promise<{ value: T; ms: number }> => {
      const start = Date.now();
      let last: unknown;
      for (let i = 0; Date.now() - start < WRITE_BOUND_MS; i++) {
        try {
          return { value: await op(addr(managers[i % 3]!)), ms: Date.now() - start };
        } catch (err: unknown) {
          last = err;
          if (i % 3 === 2) await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error(`no manager answered in ${WRITE_BOUND_MS} ms`, { cause: last });
    };
    const client = (async () => {
      for (let n = 1; !stop; n++) {
        const replicas = n % 5;
        const write = await withFailover(async (at) => {
          const { service } = await c.call(at, "getService", { serviceId: "ticker" }, 2000);
          await c.call(
            at,
            "updateService",
            {
              serviceId: service!.id,
              serviceVersion: service!.meta?.version,
              spec: { ...service!.spec!, mode: { $case: "replicated", value: { replicas } } },
              rollback: false,
            },
            2000,
          );
        });
        stats.writes++;
        if (write.ms > stats.longestWriteMs) {
          stats.longestWriteMs = write.ms;
          stats.longestWriteDuring = upgrading;
        }
        const read = await withFailover(async (at) => {
          const { service } = await c.call(at, "getService", { serviceId: "ticker" }, 2000);
          return service?.spec?.mode?.$case === "replicated" ? service.spec.mode.value.replicas : -1;
        });
        stats.reads++;
        stats.longestReadMs = Math.max(stats.longestReadMs, read.ms);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const leaderOf = async (): Promise<string> =>
      (await c.call(addr(m1), "getInfo", {}).catch(() => c.call(addr(m2), "getInfo", {}))).leaderAddr;
    const leader = await leaderOf();
    expect(managers.map(addr)).toContain(leader);
    // Followers first, the leader last: one leader change, not up to three.
    const order = [...managers].sort((a, b) => Number(addr(a) === leader) - Number(addr(b) === leader));
    try {
      for (const h of order) {
        upgrading = `${h.name} (${addr(h) === leader ? "the leader" : "a follower"})`;
        const pidFile = join(dir, h.name, "lib", "manager.pid");
        const pid = Number((await readFile(pidFile, "utf8")).trim());
        process.kill(pid, "SIGTERM");
        await expect
          .poll(
            () => {
              try {
                process.kill(pid, 0);
                return true;
              } catch {
                return false;
              }
            },
            { timeout: 15_000, interval: 100 },
          )
          .toBe(false);
        const proc = h.spawn(
          process.execPath,
          [await realpath(newBin), "manager", "--config", join(dir, h.name, "etc", "manager.json")],
          { logFile: join(dir, h.name, "log", "manager.log") },
        );
        restarted.push(proc);
        await writeFile(pidFile, `${proc.pid}\n`);
        // A member again, with a leader in the group, as the restarted manager itself sees it.
        await expect.poll(() => members(h).catch(() => 0), { timeout: 30_000, interval: 200 }).toBe(3);
        expect(proc.running).toBe(true);
      }
    } finally {
      stop = true;
      await client;
    }

    expect(stats.writes).toBeGreaterThan(10);
    expect(stats.longestWriteMs).toBeLessThan(WRITE_BOUND_MS);
    expect(stats.longestReadMs).toBeLessThan(WRITE_BOUND_MS);
    console.log(
      `rolling upgrade ${oldVersion} -> ${newVersion}: ${stats.writes} writes, ${stats.reads} reads; ` +
        `longest write ${stats.longestWriteMs} ms (upgrading ${stats.longestWriteDuring}), longest read ${stats.longestReadMs} ms`,
    );

    // The tasks ran through it: the same two containers.
    expect(await containers()).toEqual(before);
    // Every manager process reports the new version, and the CLI of the new install too.
    for (const h of managers) {
      const res = await dockerApiRequest(`${h.address}:${DOCKER_API_PORT}`, {
        method: "GET",
        path: "/version",
        certDir: tlsDir,
      });
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { Version: string }).Version).toBe(newVersion);
    }
    const status = JSON.parse(await shoal(newBin, a1, "cluster", "status", "--json", "--manager", all)) as {
      raft?: { members?: unknown[] };
      leaderAddr?: string;
    };
    expect(status.raft?.members).toHaveLength(3);
  });
});
