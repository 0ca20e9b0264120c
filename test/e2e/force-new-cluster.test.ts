// Recovery of a lost quorum with `shoal manager --force-new-cluster`, on real manager processes
// over loopback and one agent on this machine's Docker daemon: three managers hold services; two
// are SIGKILLed (the leader among them), so the third can no longer write; restarted with
// --force-new-cluster from its data dir it leads a cluster of itself alone with every service,
// takes writes, ignores an old member that comes back, the agent (which lists every manager)
// comes back to it with its container still running, and new managers join it with the same
// token (two members, then three).
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceSpec, type GetInfoResponse } from "@shoal/shared";
import { TestControl } from "./support/control-client.js";
import { startLocalAgent } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { ShoalProcess, freePort } from "./support/shoal-process.js";

const run = promisify(execFile);
let root = "";
let managers: ClusterManager[] = [];
const extra: ShoalProcess[] = [];
const control = new TestControl();
let agentNode = "";

function spec(name: string, replicas = 0): ServiceSpec {
  return ServiceSpec.fromPartial({
    annotations: { name },
    taskTemplate: { container: { image: "shoal-base:1", args: ["sleep", "3600"] } },
    mode: { $case: "replicated", value: { replicas } },
  });
}

/** Ids of the running containers of the agent's node on the local Docker daemon. */
async function agentContainers(): Promise<string[]> {
  const { stdout } = await run("docker", [
    "ps",
    "-q",
    "--no-trunc",
    "--filter",
    `label=com.shoal.node.id=${agentNode}`,
  ]);
  return stdout.split("\n").filter(Boolean).sort();
}

function info(addr: string): Promise<GetInfoResponse | undefined> {
  return control.call(addr, "getInfo", {}, 1000).catch(() => undefined);
}

async function names(addr: string): Promise<string[]> {
  const { services } = await control.call(addr, "listServices", { filters: undefined, includeStatus: false }, 10_000);
  return services.map((s) => s.spec!.annotations!.name).sort();
}

async function create(addr: string, name: string, replicas = 0): Promise<void> {
  await control.call(addr, "createService", { spec: spec(name, replicas) }, 5000);
}

/** Starts a fresh manager that joins through `via`; resolves once the group counts `members`. */
async function joinNew(name: string, via: string, token: string, members: number): Promise<string> {
  const addr = `127.0.0.1:${await freePort()}`;
  const proc = new ShoalProcess(
    ["manager", "--listen", addr, "--data-dir", join(root, name), "--join", via, "--token", token],
    join(root, `${name}.log`),
  );
  extra.push(proc);
  proc.start();
  await expect.poll(async () => (await info(via))?.raft?.members.length, { timeout: 20_000 }).toBe(members);
  return addr;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-force-"));
  managers = await startManagerCluster({ count: 3, root, control, args: ["--log-level", "info"] });
  const agent = await startLocalAgent({
    control,
    managers: managers.map((m) => m.addr),
    token: (await joinTokens(control, managers[0]!.addr)).worker,
    hostname: "force-agent",
    dataDir: join(root, "agent"),
    logFile: join(root, "agent.log"),
  });
  extra.push(agent.proc);
  agentNode = agent.nodeId;
});

afterAll(async () => {
  control.close();
  for (const p of [...managers.map((m) => m.proc), ...extra]) await p.kill("SIGKILL");
  if (agentNode !== "") {
    const ids = await agentContainers().catch(() => []);
    if (ids.length > 0) await run("docker", ["rm", "-f", ...ids]).catch(() => undefined);
  }
  if (process.env["KEEP_TEST_DIRS"] === undefined) await rm(root, { recursive: true, force: true });
});

describe("shoal manager --force-new-cluster", () => {
  it("restarts the last manager of a lost quorum alone with all the state, and others join it again", async () => {
    const leaderAddr = (await info(managers[0]!.addr))!.leaderAddr;
    const leaderIndex = managers.findIndex((m) => m.addr === leaderAddr);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    const wanted: string[] = [];
    for (let i = 0; i < 20; i++) {
      await create(leaderAddr, `svc-${i}`);
      wanted.push(`svc-${i}`);
    }
    await create(leaderAddr, "running", 1);
    wanted.push("running");
    await expect.poll(agentContainers, { timeout: 30_000 }).toHaveLength(1);
    const runningContainer = await agentContainers();
    const tokens = await joinTokens(control, leaderAddr);
    const clusterId = (await info(leaderAddr))!.clusterId;

    // A follower survives; the leader and the other follower die.
    const survivorIndex = [0, 1, 2].find((i) => i !== leaderIndex)!;
    const survivor = managers[survivorIndex]!;
    const dead = managers.filter((m) => m !== survivor);
    for (const m of dead) await m.proc.kill("SIGKILL");
    await expect(create(survivor.addr, "no-quorum")).rejects.toThrow();

    // Stopped, and started again from its data dir with --force-new-cluster.
    await survivor.proc.kill("SIGTERM");
    const forced = new ShoalProcess(
      [
        "manager",
        "--listen",
        survivor.addr,
        "--data-dir",
        join(root, `m${survivorIndex}`),
        "--force-new-cluster",
        "--log-level",
        "info",
      ],
      join(root, `m${survivorIndex}.forced.log`),
    );
    extra.push(forced);
    forced.start();
    await expect.poll(async () => (await info(survivor.addr))?.isLeader, { timeout: 15_000 }).toBe(true);
    const status = (await info(survivor.addr))!;
    expect(status.raft!.members).toHaveLength(1);
    expect(status.clusterId).toBe(clusterId);
    // Every service is kept (the write refused without a quorum may or may not be: its outcome
    // was unknown to the client, since it timed out rather than being refused).
    expect((await names(survivor.addr)).filter((n) => n !== "no-quorum")).toEqual([...wanted].sort());
    await create(survivor.addr, "after-force", 1);
    wanted.push("after-force");
    expect(await joinTokens(control, survivor.addr)).toEqual(tokens);
    // The agent found the forced manager in its list: it runs the new service's task, and the
    // container it ran before is the same, still running.
    await expect.poll(agentContainers, { timeout: 30_000 }).toHaveLength(2);
    expect(await agentContainers()).toEqual(expect.arrayContaining(runningContainer));

    // An old member comes back from its data dir: not a member any more, its messages are
    // refused and it cannot depose the new leader (its term would be higher than ours soon).
    const old = dead[0]!;
    old.proc.start();
    await new Promise((r) => setTimeout(r, 3000));
    const after = (await info(survivor.addr))!;
    expect(after.isLeader).toBe(true);
    expect(after.raft!.term).toBe(status.raft!.term);
    expect(after.raft!.members).toHaveLength(1);
    expect((await info(old.addr))?.isLeader ?? false).toBe(false);
    await old.proc.kill("SIGKILL");

    // New managers join with the same manager token: two members, then three; writes go on.
    const second = await joinNew("n1", survivor.addr, tokens.manager, 2);
    await create(survivor.addr, "with-two");
    wanted.push("with-two");
    await expect.poll(() => names(second).catch(() => []), { timeout: 15_000 }).toEqual([...wanted].sort());
    const third = await joinNew("n2", survivor.addr, tokens.manager, 3);
    await create(survivor.addr, "with-three");
    wanted.push("with-three");
    for (const addr of [survivor.addr, second, third]) {
      await expect
        .poll(async () => (await names(addr).catch(() => [])).filter((n) => n !== "no-quorum"), { timeout: 15_000 })
        .toEqual([...wanted].sort());
    }
  });
});
