// Managers are nodes, as in Swarm: three managers (processes on the harness gateway), each with an
// agent beside it running as the manager's node on its own host (h1-h3), and two workers (h4, h5).
// Checked as a Swarm user would, with the stock docker CLI against a manager's Docker API: `docker
// node ls` shows the managers with Leader / Reachable / Unreachable, `docker info` counts agree,
// `docker node inspect self` is the serving manager; a service pinned to node.role==manager runs on
// the manager hosts' dockerds; a demotion that would lose quorum is refused; a demotion leaves the
// Raft group (`shoal cluster status`) and the node stays, a worker; a promoted worker's agent starts
// a manager beside it that joins the group; a root rotation ends once both certificates of a
// manager with an agent are renewed; a demoted leader hands leadership over and leaves.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeRole, NodeState } from "@shoal/shared";
import { createHarness, type Harness, type Host, type HostProcess } from "./harness/index.js";
import { TestControl, testClientCertDir } from "./support/control-client.js";
import { spawnAgent, startAgents, waitAgentsReady } from "./support/agents.js";
import { joinTokens } from "./support/join-tokens.js";
import { startManagerCluster, type ClusterManager } from "./support/manager-cluster.js";
import { SHOAL_BIN } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";

const DOCKER = ["/usr/local/bin/docker", "/usr/bin/docker"].find((p) => existsSync(p)) ?? "docker";
const run = promisify(execFile);

let harness: Harness;
let root = "";
let managers: ClusterManager[] = [];
const agents: HostProcess[] = [];
const control = new TestControl();
let dockerHost = "";
/** The node id of the manager that serves the Docker API (m0). */
let servingNodeId = "";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: string[], env: Record<string, string>): Promise<Result> {
  return run(file, args, { timeout: 60_000, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

function docker(...args: string[]): Promise<Result> {
  return exec(DOCKER, args, {
    DOCKER_HOST: dockerHost,
    DOCKER_CONFIG: root,
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: testClientCertDir(),
  });
}

function shoal(...args: string[]): Promise<Result> {
  return exec(process.execPath, [SHOAL_BIN, ...args], { SHOAL_MANAGER: managers.map((m) => m.addr).join(",") });
}

async function ok(result: Promise<Result>): Promise<string> {
  const r = await result;
  if (r.code !== 0) throw new Error(`exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `docker node ls` as HOSTNAME -> "ROLE STATUS MANAGERSTATUS". */
async function nodeLs(): Promise<Record<string, string>> {
  const out = await ok(docker("node", "ls", "--format", "{{.Hostname}}|{{.Status}}|{{.ManagerStatus}}"));
  return Object.fromEntries(
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [host, status, managerStatus] = line.split("|") as [string, string, string];
        return [host, `${status} ${managerStatus}`.trim()];
      }),
  );
}

/** The raft members' node ids, as `shoal cluster status --json` shows them. */
async function raftMembers(): Promise<string[]> {
  const info = JSON.parse(await ok(shoal("cluster", "status", "--json"))) as {
    raft?: { members?: { member?: { nodeId?: string } }[] };
  };
  return (info.raft?.members ?? []).map((m) => m.member?.nodeId ?? "").sort();
}

async function containersOn(host: Host, service: string): Promise<number> {
  const out = await host.docker(["ps", "-q", "--filter", `label=com.shoal.service.name=${service}`]);
  return out.stdout.split("\n").filter(Boolean).length;
}

async function nodeIdOf(hostname: string): Promise<string> {
  return (await ok(docker("node", "inspect", hostname, "--format", "{{.ID}}"))).trim();
}

beforeAll(async () => {
  harness = await createHarness({ hosts: ["h1", "h2", "h3", "h4", "h5"], pullBaseImage: true });
  root = await mkdtemp(join(tmpdir(), "shoal-manager-nodes-"));
  managers = await startManagerCluster({
    count: 3,
    root,
    control,
    addr: (i) => `${harness.gateway}:${4780 + i}`,
    args: ["--docker-api", "127.0.0.1:0", "--unsafe-no-fsync"],
  });
  const addrs = managers.map((m) => m.addr);
  await waitUntil("the Docker API address in m0's log", async () =>
    /"msg":"serving the Docker Engine API"/.test(await readFile(join(root, "m0.log"), "utf8")),
  );
  const m = /"address":"([^"]+)","msg":"serving the Docker Engine API"/.exec(
    await readFile(join(root, "m0.log"), "utf8"),
  );
  dockerHost = `tcp://${m![1]}`;
  servingNodeId = (await control.call(addrs[0]!, "getInfo", {})).nodeId;
  // The agents beside the managers run as the managers' nodes: no token, the manager's certificate.
  for (let i = 0; i < 3; i++) {
    agents.push(
      spawnAgent(harness.hosts[i]!, {
        managers: addrs,
        token: "",
        args: ["--manager-cert-dir", join(root, `m${i}`, "certificates")],
      }),
    );
  }
  const token = (await joinTokens(control, addrs[0]!)).worker;
  agents.push(...(await startAgents(harness.hosts.slice(3), { control, managers: addrs, token })));
  await waitAgentsReady(["h1", "h2", "h3"], { control, via: addrs[0]! });
});

afterAll(async () => {
  control.close();
  for (const m of managers) await m.proc.kill("SIGKILL");
  await harness?.dispose();
  if (!process.env["KEEP_TEST_DIRS"]) await rm(root, { recursive: true, force: true });
});

describe("managers are nodes", () => {
  it("docker node ls shows the three managers (one Leader, two Reachable) and the two workers", async () => {
    await waitUntil("five nodes with the managers' status", async () => {
      const ls = await nodeLs();
      return Object.keys(ls).length === 5 && Object.values(ls).filter((s) => s === "Ready Reachable").length === 2;
    });
    const ls = await nodeLs();
    expect(Object.keys(ls).sort()).toEqual(["h1", "h2", "h3", "h4", "h5"]);
    expect(Object.values(ls).filter((s) => s === "Ready Leader")).toHaveLength(1);
    expect(Object.values(ls).filter((s) => s === "Ready Reachable")).toHaveLength(2);
    expect(ls["h4"]).toBe("Ready");
    expect(ls["h5"]).toBe("Ready");
    // Each manager's node is the node its agent runs as.
    const members = await raftMembers();
    expect((await Promise.all(["h1", "h2", "h3"].map(nodeIdOf))).sort()).toEqual(members);
  });

  it("docker node inspect self is the serving manager, and docker info counts agree with node ls", async () => {
    const self = JSON.parse(await ok(docker("node", "inspect", "self"))) as {
      ID: string;
      Spec: { Role: string };
      Description: { Hostname: string };
      ManagerStatus?: { Reachability: string };
    }[];
    expect(self[0]!.ID).toBe(servingNodeId);
    expect(self[0]!.Spec.Role).toBe("manager");
    expect(self[0]!.Description.Hostname).toBe("h1");
    expect(self[0]!.ManagerStatus?.Reachability).toBe("reachable");
    const info = await ok(docker("info"));
    expect(info).toMatch(/Managers: 3\n/);
    expect(info).toMatch(/Nodes: 5\n/);
  });

  it("runs a service pinned to node.role==manager on the manager hosts", async () => {
    const create = await docker(
      "service",
      "create",
      "--detach",
      "--name",
      "pinned",
      "--replicas",
      "3",
      "--constraint",
      "node.role==manager",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(create.code, create.stderr).toBe(0);
    await waitUntil(
      "3 pinned tasks running",
      async () => (await ok(docker("service", "ls", "--format", "{{.Name}} {{.Replicas}}"))).includes("pinned 3/3"),
      60_000,
    );
    const counts = await Promise.all(harness.hosts.map((h) => containersOn(h, "pinned")));
    expect(counts.slice(0, 3).reduce((a, b) => a + b, 0)).toBe(3);
    expect(counts.slice(3)).toEqual([0, 0]);
    expect(await ok(docker("service", "rm", "pinned"))).toContain("pinned");
  });

  it("refuses a demotion that would lose quorum, and shows the stopped manager Unreachable", async () => {
    // m2 (h3) stops: the two that stay would be m0 and m1; demoting m1 would leave m0 alone of two.
    await managers[2]!.proc.kill("SIGKILL");
    await waitUntil("h3's manager unreachable", async () => (await nodeLs())["h3"] === "Ready Unreachable");
    const refused = await docker("node", "demote", "h2");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("cannot demote node h2");
    expect(refused.stderr).toContain("fewer than the 2 Raft needs");
    expect((await nodeLs())["h2"]).toBe("Ready Reachable");
    expect(await raftMembers()).toHaveLength(3);
    managers[2]!.proc.start();
    await waitUntil("h3's manager reachable again", async () => (await nodeLs())["h3"] === "Ready Reachable", 30_000);
  });

  it("demotes a manager: it leaves the Raft group and stays a worker with its tasks", async () => {
    const h3 = await nodeIdOf("h3");
    const create = await docker(
      "service",
      "create",
      "--detach",
      "--name",
      "spread",
      "--mode",
      "global",
      harness.baseImage,
      "sleep",
      "3600",
    );
    expect(create.code, create.stderr).toBe(0);
    await waitUntil("a spread task on h3", async () => (await containersOn(harness.hosts[2]!, "spread")) === 1, 60_000);
    const [container] = (
      await harness.hosts[2]!.docker(["ps", "-q", "--filter", "label=com.shoal.service.name=spread"])
    ).stdout
      .split("\n")
      .filter(Boolean);

    const demoted = await docker("node", "demote", "h3");
    expect(demoted.code, demoted.stderr).toBe(0);
    await waitUntil("h3 out of the Raft group", async () => !(await raftMembers()).includes(h3), 30_000);
    await waitUntil("h3 a worker in node ls", async () => (await nodeLs())["h3"] === "Ready", 30_000);
    expect(await ok(docker("node", "inspect", "h3", "--format", "{{.Spec.Role}}"))).toBe("worker\n");
    expect(await raftMembers()).toHaveLength(2);
    const info = await ok(docker("info"));
    expect(info).toMatch(/Managers: 2\n/);
    expect(info).toMatch(/Nodes: 5\n/);
    // Its task stayed: the same container still runs on h3.
    const after = (await harness.hosts[2]!.docker(["ps", "-q", "--filter", "label=com.shoal.service.name=spread"]))
      .stdout;
    expect(after.split("\n").filter(Boolean)).toEqual([container]);
  });

  it("promotes a worker: its agent starts a manager beside it that joins the Raft group", async () => {
    const h4 = await nodeIdOf("h4");
    const promoted = await docker("node", "promote", "h4");
    expect(promoted.code, promoted.stderr).toBe(0);
    await waitUntil("h4 in the Raft group", async () => (await raftMembers()).includes(h4), 60_000);
    await waitUntil(
      "h4 a Reachable manager in node ls",
      async () => (await nodeLs())["h4"] === "Ready Reachable",
      30_000,
    );
    expect(await ok(docker("node", "inspect", "h4", "--format", "{{.Spec.Role}} {{.ManagerStatus.Addr}}"))).toBe(
      `manager ${harness.hosts[3]!.address}:4242\n`,
    );
    expect(await raftMembers()).toHaveLength(3);
    expect(await ok(docker("info"))).toMatch(/Managers: 3\n/);
    // The new manager serves the Control API on its own address.
    const info = await control.call(`${harness.hosts[3]!.address}:4242`, "getInfo", {}, 5000);
    expect(info.nodeId).toBe(h4);
    expect(info.raft?.members).toHaveLength(3);
  });

  it("a root rotation renews both certificates of a manager with an agent, and ends", async () => {
    const serial = async (dir: string): Promise<string> =>
      new X509Certificate(await readFile(join(dir, "cert.pem"))).serialNumber;
    const managerDir = join(root, "m0", "certificates");
    const agentDir = join(harness.hosts[0]!.dir, "agent", "certificates");
    const before = { manager: await serial(managerDir), agent: await serial(agentDir) };
    const rotated = await shoal("cluster", "ca", "--rotate");
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/root CA rotation done/);
    expect(await serial(managerDir)).not.toBe(before.manager);
    expect(await serial(agentDir)).not.toBe(before.agent);
  });

  it("demotes the leader: it hands leadership over, then leaves the Raft group", async () => {
    const before = await control.call(managers[1]!.addr, "getInfo", {}, 5000);
    const leader = before.raft!.members.find((m) => m.leader)!.member!;
    // Asked of a member that stays (its Raft address is its Control address).
    const via = before.raft!.members.find((m) => !m.leader)!.member!.addr;
    const demoted = await exec(process.execPath, [SHOAL_BIN, "node", "demote", leader.nodeId], { SHOAL_MANAGER: via });
    expect(demoted.code, demoted.stderr).toBe(0);
    await waitUntil(
      "the old leader out of the Raft group, under a new leader",
      async () => {
        const info = await control.call(via, "getInfo", {}, 5000).catch(() => undefined);
        const members = info?.raft?.members ?? [];
        return (
          members.length === 2 &&
          !members.some((m) => m.member?.nodeId === leader.nodeId) &&
          members.some((m) => m.leader)
        );
      },
      30_000,
    );
    // The new leader makes its node a worker; its agent reconnects to the new leader (UNKNOWN
    // meanwhile, as after any leader change) and it is READY again.
    await waitUntil("the old leader's node a ready worker", async () => {
      const { node } = await control.call(via, "getNode", { nodeId: leader.nodeId }, 5000);
      return (
        node?.role === NodeRole.WORKER && node.managerStatus === undefined && node.status?.state === NodeState.READY
      );
    });
  });
});
