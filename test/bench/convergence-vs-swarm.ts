// Convergence side by side on this machine's Docker daemon (/var/run/docker.sock, or DOCKER_HOST
// unix://...): the time until REPLICAS containers of the base image running `sleep 3600` run,
//   (0) the daemon's floor: `docker run -d` as the Engine API does it (create, then start), 8 at
//       a time ("floor") and all at once ("floor_all"), timed from the first call to the last
//       start's answer;
//   (a) Docker Swarm mode on that daemon (`docker swarm init` here, `docker swarm leave --force`
//       after; a daemon already in a swarm is left alone and the Swarm side is skipped with
//       "swarm_error", the run then exits 1);
//   (b) Shoal: one manager and one agent as real processes on loopback, the agent on the same
//       daemon.
// Swarm and Shoal are timed from their own CLI's `service create --detach` and polled the same way
// every 100 ms (Swarm: the daemon's /tasks; Shoal: the Control API's ListTasks). Both use a 1 s
// stop grace period (busybox sleep as PID 1 ignores SIGTERM), so that the removals that follow
// stay short. Everything made is removed, also on failure: the floor's containers, the service,
// its containers (found by their labels), the swarm, the docker_gwbridge network when the swarm
// made it, the processes and their data dir.
//
//   node_modules/.bin/tsx --conditions=@shoal/source test/bench/convergence-vs-swarm.ts
//   BENCH_REPLICAS=50 (default)   BENCH_SIDES=floor,floor_all,swarm,shoal (default: all, in that
//   order)   BENCH_ORDER=shoal-first (the reverse order)   BENCH_FLOOR_CONCURRENCY=8 (default)
//   BENCH_AGENT_LOG_LEVEL=warn (default; info logs each start with its wait for a slot)
// Prints one JSON line: {"bench":"convergence-vs-swarm","replicas":50,"floor_s":..,
// "floor_all_s":..,"swarm_s":..,"shoal_s":..,"ratio_to_floor":shoal_s/floor_s,
// "target_ratio_to_floor_max":1.1,"ratio_to_swarm":shoal_s/swarm_s, ...details,"loadavg_1m":..};
// "*_create_cmd_s" is how long the create command itself took (included in the times),
// "*_remove_s" the removal of the service until its containers are gone. The machine's load
// matters: on a shared 2-core host the floor itself varies 2x from one run to the next.
//
// Figures of issue 19 before the start limit (2 cores, docker.io 20.10, 50 replicas): floor
// 23.7 s, Swarm 28.9 s, Shoal 31.2 s (1.3x the floor): all 50 starts were fired at once.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { NodeState, TaskState } from "@shoal/shared";
import { ensureBaseImage } from "../e2e/harness/image.js";
import { TestControl } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";

const run = promisify(execFile);

const REPLICAS = Number(process.env["BENCH_REPLICAS"] ?? 50);
const IMAGE = "shoal-base:1";
const SWARM_SERVICE = "bench-swarm";
const SHOAL_SERVICE = "bench-shoal";
const FLOOR_LABEL = "com.shoal.bench.floor";
/** How many `docker run -d` the floor runs at a time (as measured for the issue). */
const FLOOR_CONCURRENCY = Number(process.env["BENCH_FLOOR_CONCURRENCY"] ?? 8);
const CONVERGE_TIMEOUT_MS = 300_000;
const SOCKET = (process.env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");

const round = (x: number): number => Math.round(x * 100) / 100;
const errText = (err: unknown): string => {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split("\n")[0]!;
};

/** One Docker Engine API call over the unix socket; the parsed JSON body. */
function dockerApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "Content-Type": "application/json" };
    const req = request({ socketPath: SOCKET, method, path: `/v1.41${path}`, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`docker ${method} ${path}: ${res.statusCode} ${body}`));
        else resolve((body === "" ? undefined : JSON.parse(body)) as T);
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const filters = (f: Record<string, string[]>): string => encodeURIComponent(JSON.stringify(f));

/** Ids of the containers (any state) that carry this label. */
async function containersWithLabel(label: string): Promise<string[]> {
  const list = await dockerApi<{ Id: string }[]>(
    "GET",
    `/containers/json?all=1&filters=${filters({ label: [label] })}`,
  );
  return list.map((c) => c.Id);
}

async function waitContainersGone(label: string, timeoutMs = 120_000): Promise<void> {
  await waitUntil(
    `the containers labelled ${label} to be removed`,
    async () => (await containersWithLabel(label)).length === 0,
    timeoutMs,
  );
}

/** Last resort on failure: removes the containers this run made (by a label only they carry). */
async function forceRemoveContainers(label: string): Promise<void> {
  for (const id of await containersWithLabel(label).catch(() => [])) {
    await dockerApi("DELETE", `/containers/${id}?force=1`).catch(() => undefined);
  }
}

async function networkExists(name: string): Promise<boolean> {
  const list = await dockerApi<{ Name: string }[]>("GET", `/networks?filters=${filters({ name: [name] })}`);
  return list.some((n) => n.Name === name);
}

/** Cleanups that also run when the run is interrupted (SIGINT, SIGTERM); each runs at most once. */
const cleanups = new Set<() => Promise<void>>();
function cleanup(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= fn().finally(() => cleanups.delete(once)));
  cleanups.add(once);
  return once;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.error(`${sig}: cleaning up`);
    void Promise.allSettled([...cleanups].map((fn) => fn())).then(() => process.exit(130));
  });
}

interface SideResult {
  converge_s?: number;
  create_cmd_s?: number;
  remove_s?: number;
  error?: string;
}

// ---- (0) The daemon's floor ------------------------------------------------------------------

/**
 * What the daemon itself allows: `docker run -d` (create, then start) of REPLICAS containers of
 * the same image and command, `concurrency` at a time (each slot takes the next container once
 * its own is started); the time until the last start returned. Removed after.
 */
async function floorSide(concurrency: number): Promise<SideResult> {
  const label = `${FLOOR_LABEL}=${concurrency}`;
  const undo = cleanup(async () => {
    await forceRemoveContainers(label);
    await waitContainersGone(label, 60_000).catch(() => undefined);
  });
  const result: SideResult = {};
  try {
    let next = 0;
    const t0 = performance.now();
    const slot = async (): Promise<void> => {
      while (next < REPLICAS) {
        const i = next++;
        const { Id } = await dockerApi<{ Id: string }>(
          "POST",
          `/containers/create?name=bench-floor-${concurrency}-${i}`,
          {
            Image: IMAGE,
            Cmd: ["sleep", "3600"],
            Labels: { [FLOOR_LABEL]: String(concurrency) },
            StopTimeout: 1,
          },
        );
        await dockerApi("POST", `/containers/${Id}/start`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, REPLICAS) }, slot));
    result.converge_s = round((performance.now() - t0) / 1000);
    const r0 = performance.now();
    await forceRemoveContainers(label);
    await waitContainersGone(label);
    result.remove_s = round((performance.now() - r0) / 1000);
  } catch (err: unknown) {
    result.error = errText(err);
  } finally {
    await undo();
  }
  return result;
}

// ---- (a) Docker Swarm mode -------------------------------------------------------------------

async function swarmSide(): Promise<SideResult & { already_in_swarm?: boolean }> {
  const state = (await run("docker", ["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim();
  if (state !== "inactive") {
    return {
      already_in_swarm: true,
      error: `the Docker daemon is already part of a swarm (LocalNodeState=${state}); not touching it: leave it first (docker swarm leave) or run on another daemon`,
    };
  }
  const gwbridgeBefore = await networkExists("docker_gwbridge");
  try {
    await run("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
  } catch (err: unknown) {
    // A failed init may still have left state behind.
    await run("docker", ["swarm", "leave", "--force"]).catch(() => undefined);
    return { error: `docker swarm init failed: ${errText(err)}` };
  }
  const result: SideResult = {};
  const label = `com.docker.swarm.service.name=${SWARM_SERVICE}`;
  const undo = cleanup(async () => {
    await run("docker", ["service", "rm", SWARM_SERVICE]).catch(() => undefined);
    await waitContainersGone(label, 60_000).catch(() => undefined);
    await run("docker", ["swarm", "leave", "--force"]).catch((err: unknown) => {
      result.error ??= `docker swarm leave --force failed: ${errText(err)}`;
    });
    await forceRemoveContainers(label);
    await waitContainersGone(label, 30_000).catch((err: unknown) => {
      result.error ??= errText(err);
    });
    // docker swarm init makes the docker_gwbridge network and leave does not remove it.
    if (!gwbridgeBefore && (await networkExists("docker_gwbridge").catch(() => false))) {
      await dockerApi("DELETE", "/networks/docker_gwbridge").catch(() => undefined);
    }
  });
  try {
    const t0 = performance.now();
    await run("docker", [
      "service",
      "create",
      "--detach",
      "--name",
      SWARM_SERVICE,
      "--replicas",
      String(REPLICAS),
      "--stop-grace-period",
      "1s",
      IMAGE,
      "sleep",
      "3600",
    ]);
    result.create_cmd_s = round((performance.now() - t0) / 1000);
    await waitUntil(
      `${REPLICAS} swarm tasks running`,
      async () => {
        const tasks = await dockerApi<{ Status?: { State?: string } }[]>(
          "GET",
          `/tasks?filters=${filters({ service: [SWARM_SERVICE], "desired-state": ["running"] })}`,
        );
        return tasks.filter((t) => t.Status?.State === "running").length >= REPLICAS;
      },
      CONVERGE_TIMEOUT_MS,
    );
    result.converge_s = round((performance.now() - t0) / 1000);

    const r0 = performance.now();
    await run("docker", ["service", "rm", SWARM_SERVICE]);
    await waitContainersGone(label);
    result.remove_s = round((performance.now() - r0) / 1000);
  } catch (err: unknown) {
    result.error = errText(err);
  } finally {
    await undo();
  }
  return result;
}

// ---- (b) Shoal: one manager, one agent ------------------------------------------------------

async function shoalSide(): Promise<SideResult> {
  const root = await mkdtemp(join(tmpdir(), "shoal-bench-conv-"));
  const control = new TestControl();
  const manager = `127.0.0.1:${await freePort()}`;
  const mgr = new ShoalProcess(
    ["manager", "--listen", manager, "--data-dir", join(root, "manager"), "--log-level", "warn"],
    join(root, "manager.log"),
  );
  let agent: ShoalProcess | undefined;
  const result: SideResult = {};
  let serviceId: string | undefined;
  const undo = cleanup(async () => {
    if (serviceId !== undefined) {
      // Let the agent remove them itself, then remove what is left.
      await control.call(manager, "removeService", { serviceId }).catch(() => undefined);
      await waitContainersGone(`com.shoal.service.id=${serviceId}`, 30_000).catch(() => undefined);
    }
    control.close();
    await agent?.kill("SIGTERM");
    await mgr.kill("SIGTERM");
    // serviceId unknown: the create command was interrupted; this run's service name then.
    await forceRemoveContainers(
      serviceId !== undefined ? `com.shoal.service.id=${serviceId}` : `com.shoal.service.name=${SHOAL_SERVICE}`,
    );
    if (process.env["BENCH_KEEP_DIR"]) console.error(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  });
  try {
    mgr.start();
    await waitUntil("the manager to lead", async () => (await control.call(manager, "getInfo", {}, 500)).isLeader);
    const token = (await joinTokens(control, manager)).worker;
    agent = new ShoalProcess(
      [
        "agent",
        "--manager",
        manager,
        "--token",
        token,
        "--data-dir",
        join(root, "agent"),
        "--hostname",
        "bench-agent",
        "--log-level",
        process.env["BENCH_AGENT_LOG_LEVEL"] ?? "warn",
      ],
      join(root, "agent.log"),
    );
    agent.start();
    await waitUntil("the agent to be ready", async () => {
      const { nodes } = await control.call(manager, "listNodes", { filters: undefined }, 1000);
      return nodes.some((n) => n.description?.hostname === "bench-agent" && n.status?.state === NodeState.READY);
    });

    const t0 = performance.now();
    const created = await run(process.execPath, [
      SHOAL_BIN,
      "service",
      "create",
      "--manager",
      manager,
      "--detach",
      "--name",
      SHOAL_SERVICE,
      "--replicas",
      String(REPLICAS),
      "--stop-grace-period",
      "1s",
      IMAGE,
      "sleep",
      "3600",
    ]);
    result.create_cmd_s = round((performance.now() - t0) / 1000);
    serviceId = created.stdout.trim();
    const filter = { idPrefixes: [], serviceIds: [serviceId], nodeIds: [], desiredStates: [] };
    await waitUntil(
      `${REPLICAS} shoal tasks running`,
      async () => {
        const { tasks } = await control.call(manager, "listTasks", { filters: filter }, 5000);
        return tasks.filter((t) => t.status?.state === TaskState.RUNNING).length >= REPLICAS;
      },
      CONVERGE_TIMEOUT_MS,
    );
    result.converge_s = round((performance.now() - t0) / 1000);

    const r0 = performance.now();
    await control.call(manager, "removeService", { serviceId });
    await waitContainersGone(`com.shoal.service.id=${serviceId}`);
    result.remove_s = round((performance.now() - r0) / 1000);
  } catch (err: unknown) {
    result.error = errText(err);
  } finally {
    await undo();
  }
  return result;
}

type Side = "floor" | "floor_all" | "swarm" | "shoal";
const SIDES: readonly Side[] = ["floor", "floor_all", "swarm", "shoal"];

/** The sides to run, in order: BENCH_SIDES (comma-separated) or all; BENCH_ORDER=shoal-first reverses. */
function sidesToRun(): Side[] {
  const asked = (process.env["BENCH_SIDES"] ?? SIDES.join(",")).split(",").map((x) => x.trim());
  const bad = asked.filter((x) => !SIDES.includes(x as Side));
  if (bad.length > 0) throw new Error(`BENCH_SIDES: unknown side ${bad.join(", ")} (known: ${SIDES.join(", ")})`);
  const sides = SIDES.filter((x) => asked.includes(x));
  return process.env["BENCH_ORDER"] === "shoal-first" ? sides.reverse() : sides;
}

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined ? round(a / b) : null;

async function main(): Promise<void> {
  await ensureBaseImage();
  const sides = sidesToRun();
  const results: Partial<Record<Side, SideResult & { already_in_swarm?: boolean }>> = {};
  const runners: Record<Side, () => Promise<SideResult & { already_in_swarm?: boolean }>> = {
    floor: () => floorSide(FLOOR_CONCURRENCY),
    floor_all: () => floorSide(REPLICAS),
    swarm: swarmSide,
    shoal: shoalSide,
  };
  for (const side of sides) results[side] = await runners[side]().catch((err: unknown) => ({ error: errText(err) }));
  const { floor, floor_all, swarm, shoal } = results;
  const line: Record<string, unknown> = {
    bench: "convergence-vs-swarm",
    replicas: REPLICAS,
    order: sides.join(","),
    floor_s: floor?.converge_s ?? null,
    floor_all_s: floor_all?.converge_s ?? null,
    swarm_s: swarm?.converge_s ?? null,
    shoal_s: shoal?.converge_s ?? null,
    ratio_to_floor: ratio(shoal?.converge_s, floor?.converge_s),
    target_ratio_to_floor_max: 1.1,
    ratio_to_swarm: ratio(shoal?.converge_s, swarm?.converge_s),
    floor_concurrency: FLOOR_CONCURRENCY,
    swarm_create_cmd_s: swarm?.create_cmd_s ?? null,
    shoal_create_cmd_s: shoal?.create_cmd_s ?? null,
    swarm_remove_s: swarm?.remove_s ?? null,
    shoal_remove_s: shoal?.remove_s ?? null,
    loadavg_1m: round(loadavg()[0]!),
  };
  for (const side of sides) if (results[side]?.error !== undefined) line[`${side}_error`] = results[side].error;
  console.log(JSON.stringify(line));
  if (swarm?.already_in_swarm || shoal?.error !== undefined || floor?.error !== undefined) process.exitCode = 1;
}

await main();
