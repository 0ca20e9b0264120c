// docs/deploy.md, run: every `sh` block of the guide, in order, on the harness host it names,
// with the shoal of the packed release artifact installed with npm (as init-join.test.ts does).
// The convention (described in the guide's "How this guide is tested"):
//   # on HOST                     run the block on HOST as one `bash -e` script
//   # on HOST: prints <name>      ... and its trimmed stdout is <name> in later blocks
//   # not run (REASON)            not run; REASON must be one of NOT_RUN below
// Exports of a block stay for the next blocks on the same host (one shell session per machine).
// Substitutions: the harness addresses for 10.0.0.1-4; a folder per host for /etc/shoal,
// /var/lib/shoal and /var/log/shoal (the hosts share one file system), given to `shoal init` and
// `shoal join` as --config-dir/--data-root/--log-dir with the agent's Docker socket and hostname;
// the harness's image for busybox:1.36; placeholders the test fills itself (FILLED_BY_TEST).
// Between blocks the test waits for what a reader would wait for, and checks key results.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Host } from "./harness/index.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GUIDE = join(ROOT, "docs/deploy.md");

/** The guide's machines, their example addresses and the harness hosts that play them. */
const MACHINES = [
  { name: "manager-1", example: "10.0.0.1", host: "m1" },
  { name: "manager-2", example: "10.0.0.2", host: "m2" },
  { name: "manager-3", example: "10.0.0.3", host: "m3" },
  { name: "agent-1", example: "10.0.0.4", host: "a1" },
] as const;

/** The blocks the test does not run, on purpose. */
const NOT_RUN: Record<string, string> = {
  install: "the test installs the same tarball with `npm install -g --prefix DIR` (a prefix of its own)",
  example: "a variant of a command that runs (init with metrics and labels)",
  "by-hand": "foreground daemons under the reader's supervisor; init and join start the same daemons",
  restore: "makes a new cluster from the backup: test/e2e/backup.test.ts runs it",
};

/** Placeholders the test fills from the cluster, not from a block's output. */
const FILLED_BY_TEST = ["<raft-id-of-manager-3>"];

interface GuideBlock {
  /** Line of the fence in the guide (1-based). */
  readonly line: number;
  /** Guide machine names, or empty when not run. */
  readonly on: readonly string[];
  readonly prints?: string;
  readonly notRun?: string;
  /** The commands, without the header line. */
  readonly body: string;
}

/** The `sh` blocks of a markdown text; throws on a fence without a language or a bad header. */
function guideBlocks(markdown: string): GuideBlock[] {
  const lines = markdown.split("\n");
  const blocks: GuideBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const lang = open[1]!;
    if (lang === "") throw new Error(`docs/deploy.md:${i + 1}: a fence without a language (sh, text or json)`);
    const start = i;
    const content: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) content.push(lines[i]!);
    if (lang !== "sh") continue;
    const header = content[0] ?? "";
    const body = content.slice(1).join("\n").trim();
    const on = /^# on ([a-z0-9 -]+?)(?:: prints (<[a-z0-9-]+>))?$/.exec(header);
    const notRun = /^# not run \(([a-z-]+)\)$/.exec(header);
    if (on !== null) {
      const names = on[1] === "every machine" ? MACHINES.map((m) => m.name) : [on[1]!];
      for (const n of names) {
        if (!MACHINES.some((m) => m.name === n)) throw new Error(`docs/deploy.md:${start + 1}: unknown machine ${n}`);
      }
      blocks.push({ line: start + 1, on: names, ...(on[2] !== undefined ? { prints: on[2] } : {}), body });
    } else if (notRun !== null) {
      blocks.push({ line: start + 1, on: [], notRun: notRun[1]!, body });
    } else {
      throw new Error(`docs/deploy.md:${start + 1}: an sh block starts with "# on HOST" or "# not run (REASON)"`);
    }
  }
  return blocks;
}

let harness: Harness;
let dir = "";
let shoalBin = "";

function machine(name: string): { name: string; example: string; host: Host } {
  const m = MACHINES.find((x) => x.name === name)!;
  return { ...m, host: harness.host(m.host) };
}

function hostDir(name: string): string {
  return join(dir, name);
}

function env(name: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(shoalBin)}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: join(hostDir(name), "home"),
    DOCKER_HOST: machine(name).host.dockerHost,
  };
}

/** A block's commands as they run on `name`: placeholders, addresses, paths, image. */
function substitute(body: string, name: string, values: ReadonlyMap<string, string>): string {
  let script = body.replace(/<[a-z0-9-]+>/g, (p) => {
    const v = values.get(p);
    if (v === undefined) throw new Error(`placeholder ${p} has no value yet`);
    return v;
  });
  for (const m of MACHINES) {
    script = script.replaceAll(
      new RegExp(`\\b${m.example.replaceAll(".", "\\.")}\\b`, "g"),
      machine(m.name).host.address,
    );
  }
  const base = hostDir(name);
  script = script
    .replaceAll("/etc/shoal", join(base, "etc"))
    .replaceAll("/var/lib/shoal", join(base, "lib"))
    .replaceAll("/var/log/shoal", join(base, "log"))
    .replaceAll("busybox:1.36", harness.baseImage);
  const flags = [
    `--config-dir ${join(base, "etc")} --data-root ${join(base, "lib")} --log-dir ${join(base, "log")}`,
    `--agent-opt docker-host=${machine(name).host.dockerHost} --agent-opt hostname=${name}`,
    "--manager-opt unsafe-no-fsync",
  ].join(" ");
  return script.replace(/^shoal (init|join) /gm, `shoal $1 ${flags} `);
}

/** Runs a block on one machine; the session's exports are kept in HOME/.session. */
async function runBlock(name: string, script: string): Promise<string> {
  const session = join(hostDir(name), "home", ".session");
  const wrapped = `cd "$HOME"\n[ -f ${session} ] && . ${session}\n${script}\nexport -p >${session}\n`;
  const result = await machine(name).host.exec("bash", ["-e", "-c", wrapped], {
    env: env(name),
    timeoutMs: 60_000,
    check: false,
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `on ${name}, exit ${result.exitCode}:\n${script}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** The test's own calls, with the admin's certificate and every manager. */
async function admin(...args: string[]): Promise<string> {
  const managers = MACHINES.slice(0, 3)
    .map((m) => `${machine(m.name).host.address}:4242`)
    .join(",");
  const result = await machine("manager-1").host.exec(shoalBin, [...args, "--manager", managers], {
    env: { ...env("manager-1"), SHOAL_TLS_DIR: join(hostDir("manager-1"), "lib", "manager", "client") },
    timeoutMs: 30_000,
    check: false,
  });
  if (result.exitCode !== 0) throw new Error(`shoal ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

interface Member {
  leader?: boolean;
  member?: { raftId?: string | number; addr?: string };
}

async function members(): Promise<Member[]> {
  const status = JSON.parse(await admin("cluster", "status", "--json")) as { raft?: { members?: Member[] } };
  return status.raft?.members ?? [];
}

/** The members' addresses, sorted, and the leader's address, as the text status shows them. */
async function raftView(): Promise<{ addrs: string[]; leader: string; reachable: boolean }> {
  const list = await members();
  const text = await admin("cluster", "status");
  return {
    addrs: list.map((m) => m.member?.addr ?? "").sort(),
    leader: list.find((m) => m.leader === true)?.member?.addr ?? "",
    reachable: !/Unreachable/.test(text),
  };
}

interface NodeRow {
  hostname: string;
  status: string;
  availability?: string;
}
interface TaskRow {
  node: string;
  state: string;
  desiredState: string;
}

async function runningTasks(): Promise<string[]> {
  const tasks = JSON.parse(await admin("service", "ps", "web", "--json")) as TaskRow[];
  return tasks
    .filter((t) => t.desiredState === "running" && t.state === "running")
    .map((t) => t.node)
    .sort();
}

const addr = (name: string): string => `${machine(name).host.address}:4242`;
const poll = { timeout: 30_000, interval: 300 };

/** Waits before a block (what a reader waits for) and checks after it; keyed by machine, body, occurrence. */
interface Step {
  before?: (values: Map<string, string>) => Promise<void>;
  after?: (stdout: string, values: Map<string, string>) => Promise<void>;
}
const STEPS: Record<string, Step> = {
  "manager-1|shoal cluster status\nshoal node ls|1": {
    after: async () => {
      const managers = ["manager-1", "manager-2", "manager-3"].map(addr).sort();
      await expect.poll(async () => (await raftView()).addrs, poll).toEqual(managers);
      const ready = async (): Promise<string[]> =>
        (JSON.parse(await admin("node", "ls", "--json")) as NodeRow[])
          .filter((n) => n.status === "ready")
          .map((n) => n.hostname)
          .sort();
      await expect.poll(ready, poll).toEqual(["agent-1", "manager-1", "manager-2", "manager-3"]);
    },
  },
  "manager-1|shoal cluster client-cert alice --out alice-certs|1": {
    after: async () => {
      // The reader copies the folder to Alice's machine.
      await cp(join(hostDir("manager-1"), "home", "alice-certs"), join(hostDir("agent-1"), "home", "alice-certs"), {
        recursive: true,
      });
    },
  },
  "agent-1|shoal service create --name web --replicas 4 busybox:1.36 sleep 3600\nshoal service ps web|1": {
    after: async () => {
      expect(await runningTasks()).toEqual(["agent-1", "manager-1", "manager-2", "manager-3"]);
    },
  },
  "manager-1|shoal cluster join-token worker --rotate|1": {
    after: async (_out, values) => {
      const now = (await admin("cluster", "join-token", "worker", "-q")).trim();
      expect(now).toMatch(/^SWMTKN-1-/);
      expect(now).not.toBe(values.get("<worker-token>"));
    },
  },
  "manager-1|shoal node update --availability drain agent-1\nshoal node ls\nshoal service ps web|1": {
    after: async () => {
      const placed = async (): Promise<string[]> => {
        const nodes = await runningTasks();
        return nodes.length === 4 ? [...new Set(nodes)].sort() : nodes;
      };
      await expect.poll(placed, poll).toEqual(["manager-1", "manager-2", "manager-3"]);
      const containers = async (): Promise<number> =>
        (await machine("agent-1").host.docker(["ps", "-q", "--filter", "label=com.shoal.service.name=web"])).stdout
          .split("\n")
          .filter(Boolean).length;
      await expect.poll(containers, poll).toBe(0);
    },
  },
  "manager-1|shoal node update --availability active agent-1|1": {
    after: async () => {
      const nodes = JSON.parse(await admin("node", "ls", "--json")) as NodeRow[];
      expect(nodes.find((n) => n.hostname === "agent-1")?.availability).toBe("active");
    },
  },
  "agent-1|shoal cluster status|1": {
    after: async (out) => {
      // The guide says the leader is manager-1 here: the founder, with no election since.
      expect((await raftView()).leader).toBe(addr("manager-1"));
      expect(out).toMatch(/leader/);
    },
  },
  "agent-1|shoal cluster status\nshoal service ls\nshoal service ps web|1": {
    before: async () => {
      const leader = async (): Promise<string> => (await raftView()).leader;
      await expect.poll(leader, poll).toMatch(new RegExp(`^(${addr("manager-2")}|${addr("manager-3")})$`));
    },
    after: async (out) => {
      expect(out).toMatch(/Unreachable/);
      expect(out).toMatch(/\bweb\b/);
    },
  },
  "agent-1|shoal cluster status|2": {
    before: async () => {
      await expect.poll(async () => (await raftView()).reachable, poll).toBe(true);
    },
    after: async () => {
      expect((await raftView()).addrs).toHaveLength(3);
    },
  },
  "agent-1|shoal cluster remove-manager <raft-id-of-manager-3>\nshoal cluster status|1": {
    before: async (values) => {
      const m3 = (await members()).find((m) => m.member?.addr === addr("manager-3"));
      values.set("<raft-id-of-manager-3>", BigInt(String(m3?.member?.raftId ?? 0)).toString(16));
    },
    after: async () => {
      expect((await raftView()).addrs).toEqual([addr("manager-1"), addr("manager-2")].sort());
    },
  },
  "agent-1|shoal cluster status|3": {
    before: async () => {
      const view = async (): Promise<string[]> => {
        const v = await raftView();
        return v.reachable ? v.addrs : [];
      };
      await expect.poll(view, poll).toEqual(["manager-1", "manager-2", "manager-3"].map(addr).sort());
    },
  },
  "manager-1|mkdir -p backups\nshoal cluster backup backups/shoal-$(date +%F).backup|1": {
    after: async (out) => {
      expect(out).toMatch(/Backup of cluster/);
      const folder = join(hostDir("manager-1"), "home", "backups");
      const files = await readdir(folder);
      expect(files).toHaveLength(1);
      const bytes = await readFile(join(folder, files[0]!));
      expect(bytes.subarray(0, 8).toString("latin1")).toBe("SHOALBAK");
    },
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shoal-deploy-guide-"));
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
  for (const m of MACHINES) await mkdir(join(dir, m.name, "home"), { recursive: true });
  harness = await createHarness({ hosts: MACHINES.map((m) => m.host), pullBaseImage: true });
}, 300_000);

afterAll(async () => {
  await harness?.dispose();
  if (process.env["KEEP_TEST_DIRS"] === undefined && dir !== "") await rm(dir, { recursive: true, force: true });
});

describe("docs/deploy.md", () => {
  it("runs every command of the guide on the harness hosts, from the release artifact", async () => {
    const blocks = guideBlocks(await readFile(GUIDE, "utf8"));
    const reasons = new Set(blocks.flatMap((b) => (b.notRun !== undefined ? [b.notRun] : [])));
    expect([...reasons].sort()).toEqual(Object.keys(NOT_RUN).sort());

    const values = new Map<string, string>();
    const seen = new Map<string, number>();
    const used = new Set<string>();
    const log: string[] = [];
    for (const block of blocks) {
      for (const name of block.on) {
        const key = `${name}|${block.body}`;
        const n = (seen.get(key) ?? 0) + 1;
        seen.set(key, n);
        const step = STEPS[`${key}|${n}`];
        if (step !== undefined) used.add(`${key}|${n}`);
        await step?.before?.(values);
        for (const p of block.body.match(/<[a-z0-9-]+>/g) ?? []) {
          if (!values.has(p) && !FILLED_BY_TEST.includes(p))
            throw new Error(`docs/deploy.md:${block.line}: ${p} unset`);
        }
        const out = await runBlock(name, substitute(block.body, name, values));
        log.push(`# ${name} (docs/deploy.md:${block.line})\n${block.body}\n${out}`);
        if (block.prints !== undefined) values.set(block.prints, out.trim());
        await step?.after?.(out, values);
      }
    }
    await writeFile(join(dir, "transcript.txt"), log.join("\n"));
    // Every check found its block: a guide edit that drops one fails here, not silently.
    expect([...used].sort()).toEqual(Object.keys(STEPS).sort());
  }, 120_000);
});
