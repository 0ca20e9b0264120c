// The shoal command against managers running as real processes: cluster status, service
// create/ls/inspect/rm, failover across the --manager list, and clear errors for bad input.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestControl } from "./support/control-client.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "./support/shoal-process.js";
import { waitUntil } from "./support/wait.js";
import { startManagerCluster } from "./support/manager-cluster.js";

const run = promisify(execFile);
let root = "";
const procs: ShoalProcess[] = [];
const addrs: string[] = [];
const control = new TestControl();

async function shoal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await run(process.execPath, [SHOAL_BIN, ...args], { timeout: 30_000 })) };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "shoal-cli-"));
  for (const m of await startManagerCluster({ count: 3, root, control })) {
    procs.push(m.proc);
    addrs.push(m.addr);
  }
});

afterAll(async () => {
  control.close();
  for (const p of procs) await p.kill("SIGKILL");
  await rm(root, { recursive: true, force: true });
});

describe("shoal CLI against a 3-manager cluster", () => {
  it("shows the members, their roles and the raft indexes", async () => {
    const out = await shoal("cluster", "status", "--manager", addrs[2]!);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Cluster: [0-9a-z]{25}$/m);
    expect(out.stdout).toMatch(/Raft: term \d+, commit \d+, applied \d+/);
    const rows = out.stdout.split("\n").filter((l) => /127\.0\.0\.1:\d+/.test(l) && !l.startsWith("Answered"));
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => /\sleader\s/.test(r))).toHaveLength(1);
    expect(rows.every((r) => /Reachable/.test(r))).toBe(true);
    const json = JSON.parse((await shoal("cluster", "status", "--json", "--manager", addrs[0]!)).stdout) as {
      raft: { members: unknown[] };
    };
    expect(json.raft.members).toHaveLength(3);
  });

  it("creates, lists, inspects and removes a service through any manager", async () => {
    const created = await shoal(
      "service",
      "create",
      "-d",
      "--name",
      "web",
      "--replicas",
      "3",
      "-e",
      "A=1",
      "--manager",
      addrs[1]!,
      "shoal-base:1",
      "sleep",
      "60",
    );
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-z]{25}$/);

    const ls = await shoal("service", "ls", "--manager", addrs[2]!);
    expect(ls.stdout).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+web\\s+replicated\\s+0/3\\s+shoal-base:1$`, "m"));

    const inspected = JSON.parse((await shoal("service", "inspect", "web", "--manager", addrs[0]!)).stdout) as {
      id: string;
      spec: { taskTemplate: { container: { args: string[]; env: string[] } } };
    }[];
    expect(inspected[0]!.id).toBe(id);
    expect(inspected[0]!.spec.taskTemplate.container.args).toEqual(["sleep", "60"]);
    expect(inspected[0]!.spec.taskTemplate.container.env).toEqual(["A=1"]);

    expect((await shoal("service", "rm", "web", "--manager", addrs[0]!)).code).toBe(0);
    const after = await shoal("service", "inspect", "web", "--manager", addrs[0]!);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain("service web not found");
  });

  it("refuses bad input with the field at fault, and changes nothing", async () => {
    const noName = await shoal("service", "create", "--manager", addrs[0]!, "shoal-base:1");
    expect(noName.code).not.toBe(0);
    expect(noName.stderr).toContain("spec.annotations.name: a service needs a name");
    const badReplicas = await shoal(
      "service",
      "create",
      "--name",
      "x",
      "--replicas",
      "-2",
      "--manager",
      addrs[0]!,
      "shoal-base:1",
    );
    expect(badReplicas.code).not.toBe(0);
    expect(badReplicas.stderr).toContain("--replicas");
    const badImage = await shoal("service", "create", "--name", "x", "--manager", addrs[0]!, "Not An Image");
    expect(badImage.stderr).toContain(
      'spec.task_template.container.image: "Not An Image" is not a valid image reference',
    );
    const badAddr = await shoal("service", "ls", "--manager", "nowhere");
    expect(badAddr.stderr).toContain('--manager: "nowhere" is not a HOST:PORT address');
    expect((await shoal("service", "ls", "-q", "--manager", addrs[0]!)).stdout).toBe("");
  });

  it("reaches the cluster through the next address when the first manager is down", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const out = await shoal("service", "ls", "--manager", `${dead},${addrs[1]!}`);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ID\s+NAME/);
    const none = await shoal("service", "ls", "--manager", dead);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(`cannot reach a manager at ${dead}`);
  });

  it("prints the join tokens, rotates one, and refuses a manager or an agent with a wrong token", async () => {
    const worker = (await shoal("cluster", "join-token", "worker", "-q", "--manager", addrs[0]!)).stdout.trim();
    // SWMTKN-1-<CA digest>-<secret>: the token pins the cluster's CA.
    expect(worker).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    const help = await shoal("cluster", "join-token", "manager", "--manager", addrs[1]!);
    expect(help.stdout).toMatch(/shoal manager --token SWMTKN-1-\S+ --join /);
    const rotated = await shoal("cluster", "join-token", "worker", "--rotate", "--manager", addrs[0]!);
    expect(rotated.stdout).toContain("Successfully rotated worker join token.");
    const fresh = (await shoal("cluster", "join-token", "worker", "-q", "--manager", addrs[2]!)).stdout.trim();
    expect(fresh).not.toBe(worker);

    // An agent with the old token is refused at once, and says why.
    const agent = new ShoalProcess(
      ["agent", "--manager", addrs.join(","), "--data-dir", join(root, "agent-old-token"), "--token", worker],
      join(root, "agent-old-token.log"),
    );
    agent.start();
    procs.push(agent);
    await waitUntil("the refused agent to exit", () => !agent.running, 15_000);
    const log = await readFile(join(root, "agent-old-token.log"), "utf8");
    expect(log).toContain("the join token is not valid for this cluster (wrong, or rotated)");

    // A manager that tries to join with a worker token is refused too.
    const port = await freePort();
    const bad = new ShoalProcess(
      [
        "manager",
        "--listen",
        `127.0.0.1:${port}`,
        "--data-dir",
        join(root, "m-bad"),
        "--join",
        addrs[0]!,
        "--token",
        fresh,
      ],
      join(root, "m-bad.log"),
    );
    bad.start();
    procs.push(bad);
    await waitUntil("the refused manager to exit", () => !bad.running, 15_000);
    expect(await readFile(join(root, "m-bad.log"), "utf8")).toContain(
      "the token given is the worker token: a manager joins with the manager token",
    );
  });

  it("removes a manager from the cluster by its raft id", async () => {
    const info = await control.call(addrs[0]!, "getInfo", {});
    const follower = info.raft!.members.find((m) => !m.leader)!;
    const out = await shoal("cluster", "remove-manager", follower.member!.raftId.toString(16), "--manager", addrs[0]!);
    expect(out.stderr).toBe("");
    expect(out.stdout).toBe(`removed manager ${follower.member!.raftId.toString(16)}\n`);
    const after = await shoal("cluster", "status", "--json", "--manager", addrs[0]!);
    expect((JSON.parse(after.stdout) as { raft: { members: unknown[] } }).raft.members).toHaveLength(2);
  });
});
