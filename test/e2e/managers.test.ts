// Three managers as real processes on loopback: the leader is killed with SIGKILL while a client
// keeps writing, and every write the client saw acknowledged is on every manager after the cluster
// heals; then every manager is restarted at once and every service is still there.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceSpec, type GetInfoResponse } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { ShoalProcess, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";
import { joinTokens } from "./support/join-tokens.js";

interface Mgr {
  addr: string;
  dir: string;
  proc: ShoalProcess;
}

let root = "";
const managers: Mgr[] = [];
const control = new TestControl();

function spec(name: string): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1", args: ["sleep", "3600"] } },
    mode: { $case: "replicated", value: { replicas: 1 } },
  });
}

async function info(m: Mgr): Promise<GetInfoResponse | undefined> {
  return control.call(m.addr, "getInfo", {}, 1000).catch(() => undefined);
}

async function leader(): Promise<Mgr> {
  let found: Mgr | undefined;
  await expect
    .poll(
      async () => {
        for (const m of managers) {
          if (m.proc.running && (await info(m))?.isLeader) {
            found = m;
            return true;
          }
        }
        return false;
      },
      { timeout: 15_000, interval: 100 },
    )
    .toBe(true);
  return found!;
}

async function namesOn(m: Mgr): Promise<string[]> {
  const { services } = await control.call(m.addr, "listServices", { filters: undefined, includeStatus: false }, 10_000);
  return services.map((s) => s.spec!.annotations!.name).sort();
}

function startManager(m: Mgr): void {
  m.proc.start();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-managers-"));
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const dir = join(root, `m${i}`);
    const args = ["manager", "--listen", addr, "--data-dir", dir, "--log-level", "info"];
    if (i > 0)
      args.push("--join", managers[0]!.addr, "--token", (await joinTokens(control, managers[0]!.addr)).manager);
    const m = { addr, dir, proc: new ShoalProcess(args, join(root, `m${i}.log`)) };
    managers.push(m);
    startManager(m);
    await waitUntil(`manager ${i} to join`, async () => (await info(m))?.raft?.members.length === i + 1);
  }
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.proc.kill("SIGKILL");
  if (process.env["KEEP_TEST_DIRS"] === undefined) await rm(root, { recursive: true, force: true });
});

describe("three managers", () => {
  it("agree on one leader and list every member as reachable", async () => {
    const l = await leader();
    const status = (await info(l))!;
    expect(status.raft!.members).toHaveLength(3);
    expect(status.raft!.members.filter((m) => m.leader)).toHaveLength(1);
    expect(status.raft!.members.every((m) => m.reachability === 2)).toBe(true);
  });

  it("keep every acknowledged write through a SIGKILL of the leader", async () => {
    const acknowledged: string[] = [];
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const name = `svc-${n++}`;
        for (const m of managers) {
          if (!m.proc.running) continue;
          try {
            await control.call(m.addr, "createService", { spec: spec(name) }, 3000);
            acknowledged.push(name);
            break;
          } catch {
            // not acknowledged by this manager: try the next one
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    await expect.poll(() => acknowledged.length, { timeout: 10_000 }).toBeGreaterThan(20);
    const old = await leader();
    const before = acknowledged.length;
    await old.proc.kill("SIGKILL");
    const next = await leader();
    expect(next).not.toBe(old);
    await expect.poll(() => acknowledged.length, { timeout: 15_000 }).toBeGreaterThan(before + 20);
    stop = true;
    await writer;

    startManager(old); // heal: the old leader comes back from its data dir as a follower
    const want = [...new Set(acknowledged)].sort();
    for (const m of managers) {
      await expect
        .poll(async () => (await namesOn(m).catch(() => [])).filter((x) => want.includes(x)).length, {
          timeout: 20_000,
        })
        .toBe(want.length);
    }
    expect((await info(old))?.isLeader).toBe(false);
  });

  it("keep every service through a restart of every manager at once", async () => {
    const l = await leader();
    const before = await namesOn(l);
    expect(before.length).toBeGreaterThan(40);
    for (const m of managers) await m.proc.kill("SIGKILL");
    for (const m of managers) startManager(m);
    await leader();
    for (const m of managers) await expect.poll(() => namesOn(m).catch(() => []), { timeout: 20_000 }).toEqual(before);
  });
});
