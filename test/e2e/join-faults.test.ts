// `shoal join` against a cluster that is not at its best, as real processes on loopback: three
// managers (each with --join-grace 8s), and `shoal join --start --no-agent` adding managers (no
// Docker needed: a manager joined alone runs no task).
// - A join sent while the cluster has no leader (the leader and a follower killed with SIGKILL, so
//   the survivor has no quorum) waits for the election that follows a restart, and ends joined.
// - A machine with an agent set up already gains a manager beside it: --no-agent does not stop at
//   agent.json, and leaves it as it is.
// - A join that fails once the CA has made its node (a worker token with --no-agent, refused; a
//   manager whose Raft join is refused) leaves a node that never shows up: the leader removes it
//   once the grace has passed.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GetInfoResponse, Node } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { joinTokens, type JoinTokens } from "./support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

interface Mgr {
  addr: string;
  proc: ShoalProcess;
}

const GRACE = "8s";
let root = "";
const managers: Mgr[] = [];
/** Pid files of the managers `shoal join --start` started in the background. */
const joinedPidFiles: string[] = [];
const control = new TestControl();
let tokens: JoinTokens;

async function info(addr: string): Promise<GetInfoResponse | undefined> {
  return control.call(addr, "getInfo", {}, 1000).catch(() => undefined);
}

async function leader(): Promise<Mgr> {
  let found: Mgr | undefined;
  await expect
    .poll(
      async () => {
        for (const m of managers) {
          if (m.proc.running && (await info(m.addr))?.isLeader) {
            found = m;
            return true;
          }
        }
        return false;
      },
      { timeout: 20_000, interval: 100 },
    )
    .toBe(true);
  return found!;
}

/** Raft members' addresses, as a running manager sees them. */
async function members(): Promise<string[]> {
  for (const m of managers) {
    if (!m.proc.running) continue;
    const status = await info(m.addr);
    if (status?.raft) return status.raft.members.map((x) => x.member?.addr ?? "").sort();
  }
  return [];
}

/** The nodes, as any of the three first managers that runs answers (a follower reads too). */
async function nodes(): Promise<Node[]> {
  const m = managers.find((x) => x.proc.running)!;
  return (await control.call(m.addr, "listNodes", { filters: undefined }, 5000)).nodes;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `shoal join` on a machine of its own (a folder for /etc/shoal, /var/lib/shoal, /var/log/shoal). */
function shoalJoin(machine: string, ...args: string[]): Promise<Run> {
  const base = join(root, machine);
  const argv = [
    SHOAL_BIN,
    "join",
    "--no-systemd",
    "--config-dir",
    join(base, "etc"),
    "--data-root",
    join(base, "lib"),
    "--log-dir",
    join(base, "log"),
    "--manager-opt",
    "unsafe-no-fsync",
    "--manager-opt",
    `join-grace=${GRACE}`,
    ...args,
  ];
  if (args.includes("--start")) joinedPidFiles.push(join(base, "lib", "manager.pid"));
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { timeout: 90_000, env: { ...process.env, HOME: base } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** --listen and --advertise of a new manager on loopback. */
async function listenFlags(): Promise<{ addr: string; flags: string[] }> {
  const addr = `127.0.0.1:${await freePort()}`;
  return { addr, flags: ["--listen", addr, "--advertise", addr] };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-join-faults-"));
  for (let i = 0; i < 3; i++) {
    const addr = `127.0.0.1:${await freePort()}`;
    const args = ["manager", "--listen", addr, "--data-dir", join(root, `m${i}`), "--join-grace", GRACE];
    args.push("--unsafe-no-fsync");
    if (i > 0)
      args.push("--join", managers[0]!.addr, "--token", (await joinTokens(control, managers[0]!.addr)).manager);
    const m = { addr, proc: new ShoalProcess(args, join(root, `m${i}.log`)) };
    managers.push(m);
    m.proc.start();
    await waitUntil(`manager ${i} to join`, async () => (await info(addr))?.raft?.members.length === i + 1);
  }
  tokens = await joinTokens(control, managers[0]!.addr);
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.proc.kill("SIGKILL");
  // The managers shoal join started, detached, by the pids they wrote.
  for (const file of joinedPidFiles) {
    const pid = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
  if (process.env["KEEP_TEST_DIRS"] === undefined) await rm(root, { recursive: true, force: true });
});

describe("shoal join", () => {
  it("sent while the cluster has no leader, waits for the election and ends joined", async () => {
    const before = await members();
    const old = await leader();
    const follower = managers.find((m) => m !== old)!;
    const survivor = managers.find((m) => m !== old && m !== follower)!;
    // Two of the three members down: the survivor cannot elect.
    await old.proc.kill("SIGKILL");
    await follower.proc.kill("SIGKILL");
    const { addr, flags } = await listenFlags();
    const started = Date.now();
    const joining = shoalJoin("j2", "--start", "--no-agent", ...flags, "--token", tokens.manager, survivor.addr);
    await new Promise((r) => setTimeout(r, 4000));
    follower.proc.start(); // a quorum again: an election, then the join goes through
    const result = await joining;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(4000); // it waited for the leader
    await expect.poll(members, { timeout: 30_000, interval: 200 }).toEqual([...before, addr].sort());
    old.proc.start();
  });

  it("--no-agent joins a manager on a machine whose agent is set up already, and leaves agent.json", async () => {
    const agentJson = join(root, "j1", "etc", "agent.json");
    await mkdir(join(root, "j1", "etc"), { recursive: true });
    const agentConfig = `{\n  "manager": "${managers[0]!.addr}",\n  "data-dir": "/elsewhere"\n}\n`;
    await writeFile(agentJson, agentConfig, { mode: 0o600 });
    const { addr, flags } = await listenFlags();
    const result = await shoalJoin(
      "j1",
      "--start",
      "--no-agent",
      ...flags,
      "--token",
      tokens.manager,
      managers[0]!.addr,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("as a manager.");
    expect(await readFile(agentJson, "utf8")).toBe(agentConfig);
    await expect.poll(members, { timeout: 30_000, interval: 200 }).toContain(addr);
  });

  it("gives up at --timeout, saying what it tried", async () => {
    const result = await shoalJoin("j3", "--timeout", "2", "--token", tokens.worker, "127.0.0.1:1");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /could not join the cluster at 127\.0\.0\.1:1: could not join the cluster through 127\.0\.0\.1:1: \d+ tries in [\d.]+ s, the last: /,
    );
  });

  it("that fails once the CA made its node leaves no node behind: it is removed after the grace", async () => {
    const ids = async (): Promise<string[]> => (await nodes()).map((n) => n.id).sort();
    const before = await ids();
    // A worker token with --no-agent: refused once the CA has answered (the role is the CA's).
    const refused = await shoalJoin("j4", "--no-agent", "--token", tokens.worker, managers[0]!.addr);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("--no-agent: the token is a worker token");
    // A manager whose Raft join is refused: it advertises the address of a member.
    const taken = (await members())[0]!;
    const clash = await shoalJoin(
      "j5",
      "--start",
      "--no-agent",
      "--listen",
      `127.0.0.1:${await freePort()}`,
      "--advertise",
      taken,
      "--token",
      tokens.manager,
      managers[0]!.addr,
    );
    // Either shoal join saw the manager stop at once, or the manager stopped just after.
    expect(`${clash.stdout}${clash.stderr}`).toMatch(/joins the cluster|stopped at once/);
    const added = (await ids()).filter((id) => !before.includes(id));
    expect(added).toHaveLength(2);
    const pending = (await nodes()).filter((n) => added.includes(n.id));
    expect(pending.map((n) => n.description)).toEqual([undefined, undefined]); // never seen
    await expect.poll(ids, { timeout: 30_000, interval: 250 }).toEqual(before);
  });
});
