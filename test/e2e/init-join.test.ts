// shoal init and shoal join on three harness hosts, from the packed release artifact installed
// with npm (as test/e2e/release.test.ts does), as a user of VMs without systemd would: h1 runs
// `shoal init --start` (a manager and an agent in the background, the join commands printed), h2
// joins with the worker token (an agent), h3 with the manager token (a second manager, and an
// agent). Then a service of three replicas runs one task on each host's dockerd. Mutual TLS
// throughout: the token decides the role (the CA's certificate names it, written into the
// daemon's data dir by shoal join), and the CLI calls with the admin's client certificate that
// shoal init prints as SHOAL_TLS_DIR.
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
let harness: Harness;
let dir = "";
let shoalBin = "";
/** The client certificate's folder, from shoal init's output. */
let tlsDir = "";

/** The installed `shoal` run inside a host; PATH holds node and the install's bin only. */
async function shoal(host: Host, ...args: string[]): Promise<string> {
  const env = {
    PATH: `${dirname(shoalBin)}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    ...(tlsDir !== "" ? { SHOAL_TLS_DIR: tlsDir } : {}),
  };
  const result = await host.exec(shoalBin, args, { env, timeoutMs: 90_000, check: false });
  if (result.exitCode !== 0) {
    throw new Error(
      `shoal ${args.join(" ")} on ${host.name} exited ${result.exitCode}: ${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** --config-dir, --data-root and --log-dir of a host, and its agent's Docker and name. */
function hostFlags(host: Host): string[] {
  const base = join(dir, host.name);
  return [
    "--config-dir",
    join(base, "etc"),
    "--data-root",
    join(base, "lib"),
    "--log-dir",
    join(base, "log"),
    "--agent-opt",
    `docker-host=${host.dockerHost}`,
    "--agent-opt",
    `hostname=${host.name}`,
  ];
}

interface NodeRow {
  hostname: string;
  status: string;
  role: string;
}

interface TaskRow {
  node: string;
  state: string;
  desiredState: string;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-init-join-"));
  // SHOAL_RELEASE_TGZ: an artifact built already (e.g. from a clean copy of a commit), else build it.
  let tgz = process.env["SHOAL_RELEASE_TGZ"] ?? "";
  if (tgz === "") {
    await run("bash", [join(ROOT, "scripts/release.sh")], { cwd: ROOT, timeout: 180_000 });
    const pkg = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8")) as { version: string };
    tgz = join(ROOT, "dist/release", `shoal-${pkg.version}.tgz`);
  }
  const prefix = join(dir, "prefix");
  await run("npm", ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tgz], {
    env: { PATH: process.env["PATH"], HOME: dir, npm_config_cache: join(dir, "npm-cache") },
    timeout: 120_000,
  });
  shoalBin = join(prefix, "bin", "shoal");
  harness = await createHarness({ hosts: ["h1", "h2", "h3"], pullBaseImage: true });
});

afterAll(async () => {
  // The daemons started in the background live in the hosts' namespaces: dispose kills them.
  await harness?.dispose();
  if (process.env["KEEP_TEST_DIRS"] === undefined && dir !== "") await rm(dir, { recursive: true, force: true });
});

describe("shoal init and shoal join from the release artifact", () => {
  it("makes a cluster of three hosts that runs a service on all of them", async () => {
    const [h1, h2, h3] = harness.hosts as [Host, Host, Host];
    const manager = `${h1.address}:4242`;

    // h1: no systemd here, so --start runs the daemons in the background; the address to
    // advertise is found (the host's one IPv4 address).
    const init = await shoal(h1, "init", "--start", ...hostFlags(h1), "--manager-opt", "unsafe-no-fsync");
    expect(init).toContain(`Cluster initialised: this machine is its first manager, at ${manager}.`);
    expect(init).toMatch(/manager: started in the background, pid \d+/);
    expect(init).toMatch(/agent: started in the background, pid \d+/);
    const worker = /add a worker to this cluster, run on it:\n\n {4}shoal join --token (\S+) (\S+)\n/.exec(init);
    const managerJoin = /add a manager to this cluster, run on it:\n\n {4}shoal join --token (\S+) (\S+)\n/.exec(init);
    expect(worker?.[2]).toBe(manager);
    expect(managerJoin?.[2]).toBe(manager);

    const useIt = /\n {4}export SHOAL_MANAGER=(\S+) SHOAL_TLS_DIR=(\S+)\n/.exec(init);
    expect(useIt?.[1]).toBe(manager);
    expect(useIt?.[2]).toBe(join(dir, "h1", "lib", "manager", "client"));
    tlsDir = useIt![2]!;
    // The agent beside it started joined: init wrote its worker certificate, and no token.
    expect((await stat(join(dir, "h1", "lib", "agent", "certificates", "key.pem"))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, "h1", "etc", "agent.json"), "utf8"))).not.toHaveProperty("token");

    const managerConfig = join(dir, "h1", "etc", "manager.json");
    expect((await stat(managerConfig)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(managerConfig, "utf8"))).toEqual({
      "data-dir": join(dir, "h1", "lib", "manager"),
      listen: "0.0.0.0:4242",
      advertise: manager,
      "unsafe-no-fsync": true,
    });

    // h2 with the worker token: an agent. h3 with the manager token: a manager and an agent.
    const asWorker = await shoal(h2, "join", "--token", worker![1]!, manager, "--start", ...hostFlags(h2));
    expect(asWorker).toContain(`joins the cluster at ${manager} as an agent (worker)`);
    const asManager = await shoal(
      h3,
      "join",
      "--token",
      managerJoin![1]!,
      manager,
      "--start",
      ...hostFlags(h3),
      "--manager-opt",
      "unsafe-no-fsync",
    );
    expect(asManager).toContain(`joins the cluster at ${manager} as a manager and an agent`);
    expect(JSON.parse(await readFile(join(dir, "h3", "etc", "agent.json"), "utf8"))).toEqual({
      manager: `${h3.address}:4242,${manager}`,
      "data-dir": join(dir, "h3", "lib", "agent"),
      // The agent runs as the manager's node.
      "manager-cert-dir": join(dir, "h3", "lib", "manager", "certificates"),
      "docker-host": h3.dockerHost,
      hostname: "h3",
    });
    expect(JSON.parse(await readFile(join(dir, "h3", "etc", "manager.json"), "utf8"))).toEqual({
      "data-dir": join(dir, "h3", "lib", "manager"),
      listen: "0.0.0.0:4242",
      advertise: `${h3.address}:4242`,
      join: manager,
      "unsafe-no-fsync": true,
    });
    // The certificates the CA issued for the tokens, in the daemons' data dirs: the token's role.
    const roleIn = async (path: string): Promise<string> => {
      const cert = new X509Certificate(await readFile(join(dir, path, "certificates", "cert.pem")));
      return /OU=([^\n]+)/.exec(cert.subject)?.[1] ?? "";
    };
    expect(await roleIn("h2/lib/agent")).toBe("swarm-worker");
    expect(await roleIn("h3/lib/manager")).toBe("swarm-manager");
    expect(await roleIn("h3/lib/agent")).toBe("swarm-worker");

    // A token that is not the cluster's is refused before anything is written.
    await expect(
      shoal(h2, "join", "--token", `${worker![1]!.slice(0, -3)}xyz`, manager, "--config-dir", join(dir, "h2", "etc2")),
    ).rejects.toThrow(/the join token is not valid for the cluster/);
    await expect(stat(join(dir, "h2", "etc2"))).rejects.toThrow(/ENOENT/);

    const nodes = async (): Promise<string[]> =>
      (JSON.parse(await shoal(h1, "node", "ls", "--json", "--manager", manager)) as NodeRow[])
        .filter((n) => n.status === "ready")
        .map((n) => n.hostname)
        .sort();
    await expect.poll(nodes, { timeout: 60_000, interval: 500 }).toEqual(["h1", "h2", "h3"]);
    await expect
      .poll(
        async () => {
          const status = JSON.parse(await shoal(h1, "cluster", "status", "--json", "--manager", manager)) as {
            raft?: { members?: unknown[] };
          };
          return status.raft?.members?.length;
        },
        {
          timeout: 30_000,
          interval: 500,
        },
      )
      .toBe(2);
    // Each manager and the agent beside it are one node, a manager (managers are nodes).
    const managerHosts = async (): Promise<string[]> =>
      (JSON.parse(await shoal(h1, "node", "ls", "--json", "--manager", manager)) as NodeRow[])
        .filter((n) => n.role === "manager")
        .map((n) => n.hostname)
        .sort();
    await expect.poll(managerHosts, { timeout: 30_000, interval: 500 }).toEqual(["h1", "h3"]);

    // `service create` waits until the tasks run; the two managers both answer.
    await shoal(
      h2,
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "3",
      "--manager",
      `${h3.address}:4242,${manager}`,
      harness.baseImage,
      "sleep",
      "600",
    );
    const tasks = JSON.parse(await shoal(h1, "service", "ps", "web", "--json", "--manager", manager)) as TaskRow[];
    const running = tasks.filter((t) => t.desiredState === "running" && t.state === "running");
    expect(running.map((t) => t.node).sort()).toEqual(["h1", "h2", "h3"]);
    for (const host of [h1, h2, h3]) {
      const ps = await host.docker(["ps", "-q", "--filter", "label=com.shoal.service.name=web"]);
      expect(ps.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    }
  });
});
