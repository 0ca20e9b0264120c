// One test host's dockerd: started inside the host's network namespace with nsenter (not
// `ip netns exec`, which remounts /sys and hides the cgroup mounts), with its own data root,
// exec root (where it starts its own containerd), socket, pid file, trust key (hence its own
// engine ID) and cgroup parent, no bridge and no iptables rules.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HarnessError } from "./errors.js";
import { netnsPath } from "./network.js";
import type { Tools } from "./prerequisites.js";
import { processRef, readProcess, type ProcessRef } from "./processes.js";

export interface DockerdPaths {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly pidFile: string;
  readonly configFile: string;
  readonly logFile: string;
}

export interface DockerdSpec {
  readonly tools: Tools;
  /** Name of the network namespace (under /run/netns) to run in. */
  readonly netns: string;
  /** The host's directory; everything of the dockerd lives under it. */
  readonly dir: string;
  /** `ADDR:PORT` of the plain-HTTP registry. */
  readonly insecureRegistry: string;
  readonly cgroupParent: string;
}

export interface RunningDockerd {
  readonly child: ChildProcess;
  readonly ref: ProcessRef;
}

export function dockerdPaths(dir: string): DockerdPaths {
  return {
    dataRoot: join(dir, "data"),
    execRoot: join(dir, "exec"),
    socket: join(dir, "docker.sock"),
    pidFile: join(dir, "docker.pid"),
    configFile: join(dir, "daemon.json"),
    logFile: join(dir, "dockerd.log"),
  };
}

/** Starts the dockerd and resolves once it answers /_ping; rejects with its log tail if not. */
export async function startDockerd(spec: DockerdSpec, timeoutMs = 30_000): Promise<RunningDockerd> {
  const paths = dockerdPaths(spec.dir);
  const config = {
    "data-root": paths.dataRoot,
    "exec-root": paths.execRoot,
    pidfile: paths.pidFile,
    hosts: [`unix://${paths.socket}`],
    bridge: "none",
    iptables: false,
    "ip-forward": false,
    "ip-masq": false,
    "userland-proxy": false,
    "insecure-registries": [spec.insecureRegistry],
    "cgroup-parent": spec.cgroupParent,
    "deprecated-key-path": join(spec.dir, "key.json"),
    "log-level": "warn",
  };
  writeFileSync(paths.configFile, `${JSON.stringify(config, null, 2)}\n`);
  removeDeadPidFile(join(paths.execRoot, "containerd", "containerd.pid"));
  const log = openSync(paths.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      spec.tools.nsenter,
      [`--net=${netnsPath(spec.netns)}`, "--", spec.tools.dockerd, "--config-file", paths.configFile],
      { stdio: ["ignore", log, log], env: { PATH: spec.tools.path, HOME: process.env["HOME"] ?? "/root" } },
    );
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  const ref = pid === undefined ? undefined : processRef(pid);
  if (pid === undefined || ref === undefined) {
    throw new HarnessError("DOCKERD_FAILED", `dockerd in ${spec.netns} did not start: ${tail(paths.logFile)}`);
  }
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(paths.socket))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      const why = exited ? "exited" : `did not answer within ${timeoutMs} ms`;
      throw new HarnessError("DOCKERD_FAILED", `dockerd in ${spec.netns} ${why}; log:\n${tail(paths.logFile)}`);
    }
    await sleep(50);
  }
  return { child, ref };
}

/**
 * dockerd reuses the containerd named in this pid file while that pid exists, and a zombie exists:
 * after a host was killed, its containerd may wait to be reaped by init for a while, and dockerd
 * would then wait for a socket nobody serves. A pid file of a dead or zombie process goes.
 */
function removeDeadPidFile(file: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(file, "utf8").trim());
  } catch {
    return;
  }
  const info = Number.isInteger(pid) && pid > 0 ? readProcess(pid) : undefined;
  if (info === undefined || info.state === "Z") rmSync(file, { force: true });
}

/** GET /_ping on a dockerd socket: true when it answers OK. */
export function ping(socket: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

/**
 * Removes the shim sockets (/run/containerd/s/<sha256>) that SIGKILLed shims of this dockerd's
 * containerd leave behind (a rebooted dockerd drops the task but not the socket). Their names
 * hash the containerd address, namespace and container id; the ids come from the task
 * directories and from the data root's containers.
 */
export function removeShimSockets(dir: string): void {
  const { execRoot, dataRoot } = dockerdPaths(dir);
  const address = join(execRoot, "containerd", "containerd.sock");
  const tasks = join(execRoot, "containerd", "daemon", "io.containerd.runtime.v2.task");
  const pairs = new Set<string>();
  for (const ns of ["moby", ...safeReaddir(tasks)]) {
    for (const id of [...safeReaddir(join(tasks, ns)), ...safeReaddir(join(dataRoot, "containers"))]) {
      pairs.add(join(ns, id));
    }
  }
  for (const pair of pairs) {
    const hash = createHash("sha256").update(join(address, pair)).digest("hex");
    rmSync(join("/run/containerd/s", hash), { force: true });
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
