// The multi-host harness, checked the way a test author relies on it: hosts reach each other
// over their addresses, each has its own dockerd that pulls from the run's registry, faults
// really cut traffic and kill hosts, and nothing of a run survives it (even a crashed one).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkPrerequisites,
  createHarness,
  HarnessError,
  runCommand,
  sweepStaleRuns,
  type Harness,
  type Host,
  type HostProcess,
} from "./harness/index.js";

let harness: Harness;
let h1: Host;
let h2: Host;
let h3: Host;
const servers = new Map<string, HostProcess>();
const PORT = 8080;

beforeAll(async () => {
  const started = Date.now();
  harness = await createHarness({ hosts: 3 });
  console.log(`harness ${harness.runId}: 3 hosts up in ${Date.now() - started} ms on ${harness.subnet}`);
  [h1, h2, h3] = harness.hosts as [Host, Host, Host];
  for (const host of harness.hosts) servers.set(host.name, serve(host));
  await Promise.all(harness.hosts.map((h) => waitUntil(() => canFetch(h, h), `${h.name} serves`)));
});

afterAll(async () => {
  await harness?.dispose();
});

/** Pids of the link delay listeners in the run's switch namespace. */
function linkDelayListeners(runId: string): number[] {
  const sw = statSync(`/run/netns/shoal-t-${runId}-sw`, { throwIfNoEntry: false })?.ino;
  const pids: number[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmd.includes("link-delay.py") && statSync(`/proc/${name}/ns/net`).ino === sw) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Serves `<host name>` over HTTP on the host's address with busybox httpd. */
function serve(host: Host): HostProcess {
  const www = join(host.dir, "www");
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, "index.html"), `hello from ${host.name}\n`);
  return host.spawn("busybox", ["httpd", "-f", "-p", `${host.address}:${PORT}`, "-h", www]);
}

/**
 * Fetches `to`'s page from inside `from`; undefined when that fails within 2 s. (No `wget -T`:
 * Debian's busybox-static 1.35 wget crashes with it; the command is killed at the deadline.)
 */
async function fetchPage(from: Host, to: Host): Promise<string | undefined> {
  const res = await from.exec("busybox", ["wget", "-q", "-O", "-", `http://${to.address}:${PORT}/`], {
    check: false,
    timeoutMs: 2_000,
  });
  return res.exitCode === 0 ? res.stdout : undefined;
}

async function canFetch(from: Host, to: Host): Promise<boolean> {
  return (await fetchPage(from, to)) === `hello from ${to.name}\n`;
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

describe("multi-host harness", () => {
  it("lets every host reach every other over its own address", async () => {
    for (const from of harness.hosts) {
      for (const to of harness.hosts) {
        expect(await fetchPage(from, to), `${from.name} -> ${to.name}`).toBe(`hello from ${to.name}\n`);
      }
    }
    expect(new Set(harness.hosts.map((h) => h.address)).size).toBe(3);
  });

  it("gives each host its own dockerd", async () => {
    const infos = await Promise.all(
      harness.hosts.map(async (h) =>
        (await h.docker(["info", "--format", "{{.ID}} {{.DockerRootDir}}"])).stdout.trim(),
      ),
    );
    const outer = (await runCommand("docker", ["info", "--format", "{{.ID}}"])).stdout.trim();
    const ids = infos.map((line) => line.split(" ")[0]);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(outer);
    infos.forEach((line, i) => expect(line.split(" ")[1]).toBe(join(harness.hosts[i]?.dir ?? "?", "data")));
    // The dockerd runs in the host's namespace: a host-network container sees the host's address.
    const ifaces = await h2.docker([
      "run",
      "--rm",
      "--network",
      "host",
      harness.baseImage,
      "cat",
      "/proc/net/fib_trie",
    ]);
    expect(ifaces.stdout).toContain(h2.address);
  });

  it("pulls the base image from the run's registry and runs a container from it", async () => {
    expect(harness.baseImage).toBe(`${harness.registry}/shoal-base:1`);
    await h3.docker(["pull", "--quiet", harness.baseImage]);
    const out = await h3.docker(["run", "--rm", harness.baseImage, "echo", "container on h3"]);
    expect(out.stdout).toBe("container on h3\n");
    const again = await h1.docker([
      "run",
      "--rm",
      "--network",
      "host",
      harness.baseImage,
      "wget",
      "-q",
      "-O",
      "-",
      `http://${h2.address}:${PORT}/`,
    ]);
    expect(again.stdout).toBe("hello from h2\n");
  });

  it("partitions a host both ways, silently, and heals it", async () => {
    await h1.partition();
    try {
      const [inbound, outbound, others] = await Promise.all([fetchPage(h2, h1), fetchPage(h1, h3), canFetch(h2, h3)]);
      expect(inbound).toBeUndefined();
      expect(outbound).toBeUndefined();
      expect(others).toBe(true); // the others still talk
    } finally {
      await h1.heal();
    }
    await waitUntil(() => canFetch(h2, h1), "h2 reaches h1 again", 5_000);
    await waitUntil(() => canFetch(h1, h3), "h1 reaches h3 again", 5_000);
  });

  it("stalls an established connection during a partition without resetting it", async () => {
    // From the test process (initial namespace, on the gateway address) to h1's server.
    const socket = connect(PORT, h1.address);
    await once(socket, "connect");
    let received = "";
    let failure: unknown;
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", (err: unknown) => (failure = err));
    try {
      await h1.partition();
      socket.write("GET / HTTP/1.0\r\n\r\n");
      await sleep(1_500);
      expect(received).toBe("");
      expect(failure).toBeUndefined();
      await h1.heal();
      await waitUntil(() => received.includes("hello from h1"), "the request gets through after heal", 8_000);
    } finally {
      socket.destroy();
      await h1.heal();
    }
  });

  it("makes a host's link lossy and clean again", async () => {
    const ping = async (): Promise<number> => {
      const res = await h2.exec("busybox", ["ping", "-c", "40", "-i", "0.02", "-W", "1", h1.address], { check: false });
      return Number(/(\d+) packets received/.exec(res.stdout)?.[1] ?? -1);
    };
    await h1.setLoss(0.5);
    try {
      const lossy = await ping();
      expect(lossy).toBeGreaterThan(0);
      expect(lossy).toBeLessThan(40);
    } finally {
      await h1.setLoss(0);
    }
    expect(await ping()).toBe(40);
  });

  it("delays a host's link each way, adds up two delayed ends, keeps TCP data intact, and ends cleanly", async () => {
    /** Round-trip times of `count` pings, in ms (lost ones are missing). */
    const rtts = async (from: Host, to: Host, count = 5): Promise<number[]> => {
      const args = ["ping", "-c", String(count), "-i", "0.2", "-W", "3", to.address];
      const res = await from.exec("busybox", args, { check: false, timeoutMs: 30_000 });
      return [...res.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    };
    const big = randomBytes(2 * 1024 * 1024);
    writeFileSync(join(h1.dir, "www", "big.bin"), big);
    const sha = createHash("sha256").update(big).digest("hex");
    expect(Math.max(...(await rtts(h2, h1)))).toBeLessThan(50);
    try {
      await h1.setDelay(100);
      expect(h1.delay).toEqual({ delayMs: 100, jitterMs: 0 });
      expect(linkDelayListeners(harness.runId)).toHaveLength(1);
      const slow = await rtts(h2, h1);
      expect(slow).toHaveLength(5);
      expect(Math.min(...slow)).toBeGreaterThanOrEqual(200); // h1's cable, crossed twice
      expect(Math.max(...slow)).toBeLessThan(400);

      // TCP through the slow link: every byte, in order (the checksum covers order too).
      const started = Date.now();
      const fetched = await h2.exec(
        "busybox",
        ["sh", "-c", `busybox wget -q -O - http://${h1.address}:${PORT}/big.bin | busybox sha256sum`],
        { timeoutMs: 60_000 },
      );
      expect(fetched.stdout.split(" ")[0]).toBe(sha);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400); // handshake and request: 2 RTT at least

      // Both ends slow: the delays add up, and the jitter stays in its bounds.
      await h2.setDelay(50, 20);
      const both = await rtts(h2, h1, 10);
      expect(both).toHaveLength(10);
      expect(Math.min(...both)).toBeGreaterThanOrEqual(2 * (100 + 30));
      expect(Math.max(...both)).toBeLessThan(2 * (100 + 70) + 100);
      // A pair with one slow end pays only that end.
      const third = await rtts(h3, h2);
      expect(Math.min(...third)).toBeGreaterThanOrEqual(2 * 30);
      expect(Math.max(...third)).toBeLessThan(2 * 70 + 100);

      // Loss and delay together (netem's "delay 100ms loss 30%"): frames are lost, the rest late.
      await h2.setDelay(0);
      await h1.setLoss(0.3);
      const lossy = await rtts(h2, h1, 20);
      expect(lossy.length).toBeGreaterThan(0);
      expect(lossy.length).toBeLessThan(20);
      expect(Math.min(...lossy)).toBeGreaterThanOrEqual(200);
    } finally {
      await harness.healAll();
    }
    expect(h1.delay).toEqual({ delayMs: 0, jitterMs: 0 });
    expect(Math.max(...(await rtts(h2, h1)))).toBeLessThan(50);
    expect(await canFetch(h1, h2)).toBe(true);
  });

  it("cuts one pair of hosts and leaves the other pairs alone", async () => {
    await harness.cut(h1, h2);
    try {
      const results = await Promise.all([fetchPage(h1, h2), fetchPage(h2, h1), canFetch(h1, h3), canFetch(h3, h2)]);
      expect(results).toEqual([undefined, undefined, true, true]);
    } finally {
      await harness.uncut(h1, h2);
    }
    expect(await canFetch(h1, h2)).toBe(true);
    expect(await canFetch(h2, h1)).toBe(true);
  });

  it("kills a host: its dockerd, containers and processes die; it can boot again", async () => {
    await h3.docker(["run", "-d", "--name", "victim", harness.baseImage, "sleep", "1000"]);
    const containerPid = Number((await h3.docker(["inspect", "-f", "{{.State.Pid}}", "victim"])).stdout.trim());
    const dockerdPid = h3.dockerdPid;
    const server = servers.get("h3");
    expect(dockerdPid).toBeTypeOf("number");
    expect(existsSync(`/proc/${containerPid}`)).toBe(true);

    await h3.kill();

    expect(h3.dockerdRunning).toBe(false);
    expect((await h3.docker(["info"], { check: false })).exitCode).not.toBe(0);
    expect(isLive(dockerdPid ?? 0)).toBe(false);
    expect(isLive(containerPid)).toBe(false);
    expect(await server?.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(h3.processes()).toEqual([]);
    expect(await fetchPage(h1, h3)).toBeUndefined();

    await h3.startDocker();
    const ps = await h3.docker(["ps", "-a", "--filter", "name=victim", "--format", "{{.State}}"]);
    expect(ps.stdout.trim()).toBe("exited");
    const before = h3.dockerdPid;
    await h3.restartDocker();
    expect(h3.dockerdPid).not.toBe(before);
    expect((await h3.docker(["info", "--format", "{{.ID}}"])).exitCode).toBe(0);
  });

  it("sweeps the leftovers of a crashed run and leaves live runs alone", async () => {
    // One node process (tsx's loader, not its CLI, which would run the script in a grandchild).
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const fixture = fileURLToPath(new URL("./harness/fixtures/crashing-run.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", tsx, fixture], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
      });
      child.once("exit", (code) => reject(new Error(`crashing run exited early (${String(code)})`)));
    });
    const crashed = JSON.parse(line) as {
      runId: string;
      dir: string;
      netns: string;
      dockerdPid: number;
      sleeperPid: number;
    };
    expect(existsSync(`/run/netns/${crashed.netns}`)).toBe(true);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const sweep = await sweepStaleRuns(checkPrerequisites());

    expect(sweep.problems).toEqual([]);
    expect(sweep.runIds).toContain(crashed.runId);
    expect(sweep.runIds).not.toContain(harness.runId);
    expect(await leftovers(crashed.runId)).toEqual([]);
    expect(isLive(crashed.dockerdPid)).toBe(false);
    expect(isLive(crashed.sleeperPid)).toBe(false);
    expect(await canFetch(h1, h2)).toBe(true); // this run untouched
  });

  it("removes everything of the run at dispose", async () => {
    const runId = harness.runId;
    // The link delay listener (when the delay test ran) goes too: it lets held frames go and exits.
    const pids = [...harness.hosts.map((h) => h.dockerdPid ?? 0), ...linkDelayListeners(runId)];
    const started = Date.now();
    await harness.dispose();
    console.log(`harness ${runId}: disposed in ${Date.now() - started} ms`);
    expect(await leftovers(runId)).toEqual([]);
    expect(pids.filter(isLive)).toEqual([]);
    await harness.dispose(); // idempotent
  });

  it("says what to install when a prerequisite is missing", () => {
    expect(() =>
      checkPrerequisites({ dirs: ["/nonexistent"], uid: 1000, busybox: "/nonexistent/busybox" }),
    ).toThrowError(
      /must run as root[\s\S]*dockerd not found \(install the Debian package docker\.io\)[\s\S]*docker-registry not found[\s\S]*nsenter not found \(install the Debian package util-linux\)[\s\S]*busybox-static/,
    );
    expect(() => checkPrerequisites({ dirs: ["/nonexistent"] })).toThrow(HarnessError);
  });
});

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Anything on the machine that still carries the run id. */
async function leftovers(runId: string): Promise<string[]> {
  const found: string[] = [];
  for (const ns of readdirSync("/run/netns")) if (ns.includes(runId)) found.push(`netns ${ns}`);
  const links = (await runCommand("ip", ["-o", "link", "show"])).stdout;
  for (const line of links.split("\n")) if (line.includes(runId)) found.push(`link ${line.slice(0, 60)}`);
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(`/${runId}/`) || cmdline.includes(`-${runId}-`))
        found.push(`process ${pid} ${cmdline.replaceAll("\0", " ")}`);
    } catch {
      // gone
    }
  }
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n"))
    if (line.includes(`/${runId}/`)) found.push(`mount ${line}`);
  const cgroups = (
    await runCommand("sh", ["-c", `find /sys/fs/cgroup -maxdepth 4 -type d -name 'shoal-t-${runId}-*'`])
  ).stdout.trim();
  if (cgroups !== "") found.push(`cgroups ${cgroups}`);
  if (existsSync(join("/tmp/shoal-harness", runId))) found.push("run directory");
  return found;
}
