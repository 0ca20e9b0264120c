// Backup and restore with real manager processes: three managers hold services; `shoal cluster
// backup` takes a backup from a follower (read index through the leader); the cluster is gone;
// `shoal manager --force-new-cluster --restore FILE` with a new data dir starts a one-manager
// cluster that has every service, the same cluster id and join tokens, and takes writes. A
// truncated or altered file is refused with a clear error before anything starts.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceSpec, type GetInfoResponse } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";

const run = promisify(execFile);
let root = "";
let managers: ClusterManager[] = [];
const extra: ShoalProcess[] = [];
const control = new TestControl();

function shoal(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [SHOAL_BIN, ...args], { timeout: 60_000 });
}

/** Runs `shoal` expecting it to fail; returns its exit code and standard error. */
async function shoalFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await shoal(...args);
  } catch (err: unknown) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`shoal ${args.join(" ")} succeeded`);
}

const spec = (name: string): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1", args: ["sleep", "3600"] } },
    mode: { $case: "replicated", value: { replicas: 0 } },
  });

function info(addr: string): Promise<GetInfoResponse | undefined> {
  return control.call(addr, "getInfo", {}, 1000).catch(() => undefined);
}

async function names(addr: string): Promise<string[]> {
  const { services } = await control.call(addr, "listServices", { filters: undefined, includeStatus: false }, 10_000);
  return services.map((s) => s.spec!.annotations!.name).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-backup-"));
  managers = await startManagerCluster({ count: 3, root, control, args: ["--unsafe-no-fsync"] });
});

afterAll(async () => {
  control.close();
  for (const p of [...managers.map((m) => m.proc), ...extra]) await p.kill("SIGKILL");
  if (process.env["KEEP_TEST_DIRS"] === undefined) await rm(root, { recursive: true, force: true });
});

describe("shoal cluster backup and manager --restore", () => {
  it("restores a backup into a new one-manager cluster that has the services and takes writes", async () => {
    const leaderAddr = (await info(managers[0]!.addr))!.leaderAddr;
    const wanted: string[] = [];
    for (let i = 0; i < 12; i++) {
      await control.call(leaderAddr, "createService", { spec: spec(`svc-${i}`) }, 5000);
      wanted.push(`svc-${i}`);
    }
    wanted.sort();
    const clusterId = (await info(leaderAddr))!.clusterId;
    const tokens = await joinTokens(control, leaderAddr);

    // From a follower: it confirms with the leader that it has applied every service.
    const follower = managers.find((m) => m.addr !== leaderAddr)!;
    const file = join(root, "cluster.backup");
    const { stdout } = await shoal("cluster", "backup", file, "--manager", follower.addr);
    expect(stdout).toContain(`Backup of cluster ${clusterId}`);
    expect(stdout).toContain("12 services");
    expect((await readdir(root)).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    // The old cluster is gone.
    for (const m of managers) await m.proc.kill("SIGKILL");

    // Damaged files are refused before anything starts: the data dir stays empty.
    const bytes = await readFile(file);
    const truncated = join(root, "truncated.backup");
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
    const flipped = join(root, "flipped.backup");
    const altered = Buffer.from(bytes);
    altered[altered.length - 5]! ^= 0xff;
    await writeFile(flipped, altered);
    const notOne = join(root, "not-a-backup");
    await writeFile(notOne, "hello\n");
    const addr = `127.0.0.1:${await freePort()}`;
    for (const [bad, message] of [
      [truncated, /truncated/],
      [flipped, /SHA-256 does not match/],
      [notOne, /does not start as a Shoal backup file does/],
    ] as const) {
      const dir = join(root, `refused-${bad.split("/").pop()}`);
      const failed = await shoalFails(
        "manager",
        "--listen",
        addr,
        "--data-dir",
        dir,
        "--force-new-cluster",
        "--restore",
        bad,
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/shoal: not a usable backup: /);
      expect(failed.stderr).toMatch(message);
      expect(await readdir(dir).catch(() => [])).toEqual([]);
    }
    const noForce = await shoalFails("manager", "--listen", addr, "--data-dir", join(root, "x"), "--restore", file);
    expect(noForce.stderr).toMatch(/--restore goes with --force-new-cluster/);

    // The restore.
    const restored = new ShoalProcess(
      ["manager", "--listen", addr, "--data-dir", join(root, "restored"), "--force-new-cluster", "--restore", file],
      join(root, "restored.log"),
    );
    extra.push(restored);
    restored.start();
    await expect.poll(async () => (await info(addr))?.isLeader, { timeout: 30_000 }).toBe(true);
    const now = (await info(addr))!;
    expect(now.clusterId).toBe(clusterId);
    expect(now.raft?.members).toHaveLength(1);
    expect(await names(addr)).toEqual(wanted);
    expect(await joinTokens(control, addr)).toEqual(tokens);

    // Writes work.
    await control.call(addr, "createService", { spec: spec("after-restore") }, 5000);
    expect(await names(addr)).toContain("after-restore");

    // A data dir that holds a manager already is not restored over.
    await restored.kill("SIGTERM");
    const again = await shoalFails(
      "manager",
      "--listen",
      addr,
      "--data-dir",
      join(root, "restored"),
      "--force-new-cluster",
      "--restore",
      file,
    );
    expect(again.stderr).toMatch(/--restore needs a new data dir/);
  });
});
