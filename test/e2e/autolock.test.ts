// Autolock with three managers as real processes: `shoal cluster update --autolock=true` prints the
// unlock key; a restarted manager stays locked (it serves only its unlock socket, not Raft nor the
// Control API) until `shoal manager unlock` gives it the right key (a wrong one is refused), then it
// rejoins with the state; nothing in the data dirs holds a service name written after autolock in clear.
import { execFile } from "node:child_process";
import { readFile, readdir, mkdtemp, rm, writeFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RaftKeys, UnlockKey } from "@shoal/manager";
import { ServiceSpec } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { joinTokens } from "./support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";

let root = "";
let managers: ClusterManager[] = [];
const control = new TestControl();

async function shoal(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [SHOAL_BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

function spec(name: string): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1", args: ["sleep", "3600"] } },
    mode: { $case: "replicated", value: { replicas: 0 } },
  });
}

const dataDir = (i: number): string => join(root, `m${i}`);

/** Every file under `dir` whose bytes contain `text`. */
async function filesContaining(dir: string, text: string | Buffer): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if ((await readFile(path)).includes(text)) out.push(path);
  }
  return out;
}

async function names(addr: string): Promise<string[]> {
  const { services } = await control.call(addr, "listServices", { filters: undefined, includeStatus: false }, 5000);
  return services.map((s) => s.spec!.annotations!.name).sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-autolock-"));
  managers = await startManagerCluster({ count: 3, root, control });
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.proc.kill("SIGKILL");
  await rm(root, { recursive: true, force: true });
});

describe("autolock", () => {
  let unlockKey = "";
  const secretName = `after-autolock-${Math.random().toString(36).slice(2, 10)}`;

  it("turns on with `cluster update --autolock=true`, printing the unlock key once", async () => {
    await control.call(managers[0]!.addr, "createService", { spec: spec("before-autolock") }, 10_000);
    // Autolock off: each manager's data key is in clear in its data dir (as SwarmKit's next to its TLS key).
    const clearKeys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const keys = await RaftKeys.open(dataDir(i), { info: () => undefined });
      expect(keys.locked).toBe(false);
      clearKeys.push(keys.keyIds()!.current);
    }
    const out = await shoal(["cluster", "update", "--autolock=true", "--manager", managers[0]!.addr]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const m = /SWMKEY-1-[A-Za-z0-9_-]{43}/.exec(out.stdout);
    expect(m).not.toBeNull();
    unlockKey = m![0];
    const again = await shoal(["cluster", "unlock-key", "-q", "--manager", managers[1]!.addr]);
    expect(again.stdout.trim()).toBe(unlockKey);
    // The cluster as the Control API shows it carries neither the unlock key nor the CA key.
    const { cluster } = await control.call(managers[2]!.addr, "getCluster", { clusterId: "" }, 5000);
    expect(cluster?.spec?.encryptionConfig?.autoLockManagers).toBe(true);
    expect(JSON.stringify(cluster)).not.toContain(unlockKey.slice(9, 30));
    expect(cluster?.unlockKey.length).toBe(0);
    expect(cluster?.rootCa?.caKey.length).toBe(0);

    // Every manager wraps its data keys with it.
    await expect
      .poll(
        async () => {
          for (let i = 0; i < 3; i++) {
            const file = JSON.parse(await readFile(join(dataDir(i), "raft-keys.json"), "utf8")) as { locked: boolean };
            if (!file.locked) return false;
          }
          return true;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    // Each rotated to a new data key, took a snapshot under it and forgot the one that was in clear:
    // no Raft file is under it any more.
    for (let i = 0; i < 3; i++) {
      await expect
        .poll(
          async () => {
            const keys = await RaftKeys.open(dataDir(i), { info: () => undefined });
            keys.unlock(UnlockKey.parse(unlockKey));
            return keys.keyIds();
          },
          { timeout: 20_000, interval: 200 },
        )
        .toEqual({ current: expect.not.stringMatching(clearKeys[i]!), previous: [] });
      expect(await filesContaining(join(dataDir(i), "raft"), Buffer.from(clearKeys[i]!, "hex"))).toEqual([]);
    }
    await control.call(managers[0]!.addr, "createService", { spec: spec(secretName) }, 10_000);
    await expect.poll(() => names(managers[2]!.addr), { timeout: 10_000 }).toContain(secretName);
  });

  it("a restarted manager is locked: it serves no Raft and no Control API until unlocked", async () => {
    const m = managers[2]!;
    await m.proc.kill("SIGTERM");
    m.proc.start();
    await expect
      .poll(async () => (await shoal(["manager", "unlock", "--status", "--data-dir", dataDir(2)])).stdout, {
        timeout: 20_000,
        interval: 200,
      })
      .toBe("locked\n");
    expect((await stat(join(dataDir(2), "unlock.sock"))).mode & 0o777).toBe(0o600);
    await expect(control.call(m.addr, "getInfo", {}, 1000)).rejects.toThrow();
    const log = await readFile(join(root, "m2.log"), "utf8");
    expect(log).toContain("manager is locked");
    expect(log).not.toContain(unlockKey.slice(9));
    // The others still see it as a member that does not answer.
    const { raft } = await control.call(managers[0]!.addr, "getInfo", {}, 5000);
    expect(raft?.members).toHaveLength(3);
  });

  it("refuses a wrong unlock key, and starts with the right one, with the state", async () => {
    const wrong = join(root, "wrong.key");
    await writeFile(wrong, "SWMKEY-1-" + Buffer.alloc(32, 7).toString("base64url") + "\n");
    const refused = await shoal(["manager", "unlock", "--data-dir", dataDir(2), "--key-file", wrong]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/invalid unlock key/);
    const malformed = await shoal(["manager", "unlock", "--data-dir", dataDir(2)], "not-a-key\n");
    expect(malformed.code).not.toBe(0);
    expect((await shoal(["manager", "unlock", "--status", "--data-dir", dataDir(2)])).stdout).toBe("locked\n");

    const ok = await shoal(["manager", "unlock", "--data-dir", dataDir(2)], `${unlockKey}\n`);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe("manager unlocked\n");
    const m = managers[2]!;
    await expect
      .poll(
        async () => (await control.call(m.addr, "getInfo", {}, 1000).catch(() => undefined))?.raft?.members.length,
        {
          timeout: 30_000,
          interval: 200,
        },
      )
      .toBe(3);
    await expect
      .poll(() => names(m.addr), { timeout: 20_000, interval: 200 })
      .toEqual(["before-autolock", secretName].sort());
    // Written after autolock: in no data dir in clear.
    for (let i = 0; i < 3; i++) expect(await filesContaining(dataDir(i), secretName)).toEqual([]);
  });

  /** Restart manager i and wait until it answers as a member (it was not locked) or says it is locked. */
  async function restart(i: number): Promise<"locked" | "running"> {
    const m = managers[i]!;
    await m.proc.kill("SIGTERM");
    m.proc.start();
    let state: "locked" | "running" | undefined;
    await expect
      .poll(
        async () => {
          const info = await control.call(m.addr, "getInfo", {}, 1000).catch(() => undefined);
          if ((info?.raft?.members.length ?? 0) >= 3) state = "running";
          else if ((await shoal(["manager", "unlock", "--status", "--data-dir", dataDir(i)])).stdout === "locked\n")
            state = "locked";
          return state;
        },
        { timeout: 30_000, interval: 300 },
      )
      .toBeDefined();
    return state!;
  }

  it("a rotated unlock key re-wraps every manager's keys: the old key no longer unlocks", async () => {
    const out = await shoal(["cluster", "unlock-key", "--rotate", "-q", "--manager", managers[1]!.addr]);
    expect(out.code).toBe(0);
    const rotated = out.stdout.trim();
    expect(rotated).toMatch(/^SWMKEY-1-/);
    expect(rotated).not.toBe(unlockKey);
    await expect
      .poll(
        async () => {
          const keys = await RaftKeys.open(dataDir(1), { info: () => undefined });
          try {
            keys.unlock(UnlockKey.parse(rotated));
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    expect(await restart(1)).toBe("locked");
    const old = await shoal(["manager", "unlock", "--data-dir", dataDir(1)], `${unlockKey}\n`);
    expect(old.stderr).toMatch(/invalid unlock key/);
    const ok = await shoal(["manager", "unlock", "--data-dir", dataDir(1)], `${rotated}\n`);
    expect(ok.stdout).toBe("manager unlocked\n");
    await expect
      .poll(() => names(managers[1]!.addr).catch(() => []), { timeout: 30_000, interval: 300 })
      .toEqual(["before-autolock", secretName].sort());
  });

  it("a manager that joins an autolocked cluster wraps its keys with the cluster's unlock key", async () => {
    const { unlockKey: current } = await control.call(managers[0]!.addr, "getUnlockKey", {}, 5000);
    const addr = `127.0.0.1:${await freePort()}`;
    const token = (await joinTokens(control, managers[0]!.addr)).manager;
    const proc = new ShoalProcess(
      ["manager", "--listen", addr, "--data-dir", dataDir(3), "--join", managers[0]!.addr, "--token", token],
      join(root, "m3.log"),
    );
    proc.start();
    managers.push({ addr, proc });
    await expect
      .poll(async () => (await control.call(addr, "getInfo", {}, 1000).catch(() => undefined))?.raft?.members.length, {
        timeout: 30_000,
        interval: 300,
      })
      .toBe(4);
    await expect
      .poll(
        async () => {
          const keys = await RaftKeys.open(dataDir(3), { info: () => undefined });
          if (!keys.locked) return "clear";
          keys.unlock(UnlockKey.parse(current));
          return keys.keyIds()!.previous.length === 0 ? "wrapped, one key" : "wrapped, old key still needed";
        },
        { timeout: 20_000, interval: 300 },
      )
      .toBe("wrapped, one key");
    expect(await filesContaining(dataDir(3), secretName)).toEqual([]);
  });

  it("autolock off: the keys are written in clear again and a restarted manager starts by itself", async () => {
    const out = await shoal(["cluster", "update", "--autolock=false", "--manager", managers[0]!.addr]);
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain("SWMKEY");
    const { cluster } = await control.call(managers[0]!.addr, "getCluster", { clusterId: "" }, 5000);
    expect(cluster?.spec?.encryptionConfig?.autoLockManagers).toBe(false);
    const refused = await shoal(["cluster", "unlock-key", "--manager", managers[0]!.addr]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/autolock is off/);
    await expect
      .poll(
        async () =>
          (JSON.parse(await readFile(join(dataDir(0), "raft-keys.json"), "utf8")) as { locked: boolean }).locked,
        { timeout: 20_000, interval: 200 },
      )
      .toBe(false);
    expect(await restart(0)).toBe("running");
    expect(await names(managers[0]!.addr)).toEqual(["before-autolock", secretName].sort());
  });
});
