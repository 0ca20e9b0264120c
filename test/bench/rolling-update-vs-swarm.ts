// Rolling update side by side on this machine's Docker daemon (/var/run/docker.sock, or
// DOCKER_HOST unix://...): the time to roll a 50-replica busybox `sleep` service to a new image,
// 10 tasks at a time (stop-first, no delay),
//   (a) with Docker Swarm mode on that daemon: `docker service update --detach
//       --update-parallelism 10 --image IMAGE` (`docker swarm init` here, `docker swarm leave
//       --force` after; a daemon already in a swarm is left alone: "swarm_error", exit 1);
//   (b) with Shoal: one manager and one agent as real processes on loopback, the agent on the
//       same daemon: `shoal service update --detach --update-parallelism 10 --image IMAGE`.
// Each side creates its service once (parallelism 10 in its update config too), waits until it
// runs, then rolls it BENCH_RUNS times, alternating between two more tags of the base image
// (shoal-roll:a and shoal-roll:b, made here and removed after; same layers, so no pull cost). A
// run is timed from the update command until every one of the replicas runs the new image
// ("roll_s"), and until the orchestrator marks the update completed ("complete_s", which adds
// the monitor period after the last batch: 5 s by default on both sides). Both are polled every
// 100 ms (Swarm: the daemon's /tasks and /services; Shoal: ListTasks and GetService). Both use a
// 1 s stop grace period (busybox sleep as PID 1 ignores SIGTERM). Swarm gets --no-resolve-image:
// the tags are local, and asking a registry for their digest would only add a failed lookup.
// Everything made is removed, also on failure.
//
//   node_modules/.bin/tsx --conditions=@shoal/source test/bench/rolling-update-vs-swarm.ts
//   BENCH_REPLICAS=50  BENCH_PARALLELISM=10  BENCH_RUNS=3  BENCH_ORDER=shoal-first (default swarm first)
// Prints one JSON line: {"bench":"rolling-update-vs-swarm","replicas":50,"parallelism":10,
// "runs":3,"swarm_roll_s":median,"shoal_roll_s":median,"ratio":shoal/swarm,"swarm_complete_s":..,
// "shoal_complete_s":..,"complete_ratio":..,"swarm_roll_runs_s":[..],"shoal_roll_runs_s":[..]}.
//
// First figures (2 cores shared with other work, load average 9-17, docker.io 20.10, 50 replicas,
// parallelism 10, 3 runs each): Shoal first, Swarm 23.8/27.2/28.4 s (median 27.2, completed 32.1),
// Shoal 21.0/22.5/24.6 s (median 22.5, completed 27.4), ratio 0.83 (0.86 to completion); Swarm
// first, Swarm 22.2/24.3/21.6 s (median 22.2, completed 27.2), Shoal 24.5/21.0/19.7 s (median
// 21.0, completed 26.0), ratio 0.94 (0.95). The load moves both sides by several seconds. A batch
// takes ~4.5 s; the 1 s stop grace and the daemon starting 10 containers (~1.3 s by the
// convergence benchmark's figures) are about half of it.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { NodeState, TaskState, UpdateState } from "@shoal/shared";
import { ensureBaseImage } from "../e2e/harness/image.js";
import { TestControl } from "../e2e/support/control-client.js";
import { joinTokens } from "../e2e/support/join-tokens.js";
import { SHOAL_BIN, ShoalProcess, freePort } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";

const run = promisify(execFile);

const REPLICAS = Number(process.env["BENCH_REPLICAS"] ?? 50);
const PARALLELISM = Number(process.env["BENCH_PARALLELISM"] ?? 10);
const RUNS = Number(process.env["BENCH_RUNS"] ?? 3);
const BASE = "shoal-base:1";
const IMAGES = ["shoal-roll:a", "shoal-roll:b"] as const;
const SWARM_SERVICE = "bench-roll-swarm";
const SHOAL_SERVICE = "bench-roll-shoal";
const TIMEOUT_MS = 300_000;
const SOCKET = (process.env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");

const round = (x: number): number => Math.round(x * 100) / 100;
const seconds = (t0: number): number => round((performance.now() - t0) / 1000);
const errText = (err: unknown): string => {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split("\n")[0]!;
};
function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : round((s[mid - 1]! + s[mid]!) / 2);
}

/** One Docker Engine API call over the unix socket; the parsed JSON body. */
function dockerApi<T>(method: string, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: SOCKET, method, path: `/v1.41${path}` }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`docker ${method} ${path}: ${res.statusCode} ${body}`));
        else resolve((body === "" ? undefined : JSON.parse(body)) as T);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const filters = (f: Record<string, string[]>): string => encodeURIComponent(JSON.stringify(f));

async function containersWithLabel(label: string): Promise<string[]> {
  const list = await dockerApi<{ Id: string }[]>(
    "GET",
    `/containers/json?all=1&filters=${filters({ label: [label] })}`,
  );
  return list.map((c) => c.Id);
}

async function removeContainers(label: string, timeoutMs: number): Promise<void> {
  await waitUntil(
    `containers ${label} gone`,
    async () => (await containersWithLabel(label)).length === 0,
    timeoutMs,
  ).catch(async () => {
    for (const id of await containersWithLabel(label).catch(() => [])) {
      await dockerApi("DELETE", `/containers/${id}?force=1`).catch(() => undefined);
    }
  });
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
  roll_s: number[];
  complete_s: number[];
  converge_s?: number;
  error?: string;
}

/**
 * A side as the loop sees it: create the service and wait until it runs, start an update to an
 * image, and two probes: how many running tasks run that image, and whether the update completed.
 */
interface Side {
  create(): Promise<void>;
  update(image: string): Promise<void>;
  runningWith(image: string): Promise<number>;
  completed(): Promise<boolean>;
}

async function rollAll(side: Side, result: SideResult): Promise<void> {
  const c0 = performance.now();
  await side.create();
  await waitUntil(`${REPLICAS} running`, async () => (await side.runningWith(BASE)) >= REPLICAS, TIMEOUT_MS);
  result.converge_s = seconds(c0);
  for (let i = 0; i < RUNS; i++) {
    const image = IMAGES[i % 2]!;
    const t0 = performance.now();
    await side.update(image);
    await waitUntil(
      `${REPLICAS} running ${image}`,
      async () => (await side.runningWith(image)) >= REPLICAS,
      TIMEOUT_MS,
    );
    result.roll_s.push(seconds(t0));
    await waitUntil("the update to complete", () => side.completed(), TIMEOUT_MS);
    result.complete_s.push(seconds(t0));
  }
}

// ---- (a) Docker Swarm mode -------------------------------------------------------------------

interface SwarmTask {
  Status?: { State?: string };
  Spec?: { ContainerSpec?: { Image?: string } };
}

async function swarmSide(): Promise<SideResult & { already_in_swarm?: boolean }> {
  const result: SideResult & { already_in_swarm?: boolean } = { roll_s: [], complete_s: [] };
  const state = (await run("docker", ["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim();
  if (state !== "inactive") {
    return {
      ...result,
      already_in_swarm: true,
      error: `the Docker daemon is already part of a swarm (LocalNodeState=${state}); not touching it`,
    };
  }
  const gwbridgeBefore = await networkExists("docker_gwbridge");
  try {
    await run("docker", ["swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377"]);
  } catch (err: unknown) {
    await run("docker", ["swarm", "leave", "--force"]).catch(() => undefined);
    return { ...result, error: `docker swarm init failed: ${errText(err)}` };
  }
  const label = `com.docker.swarm.service.name=${SWARM_SERVICE}`;
  const undo = cleanup(async () => {
    await run("docker", ["service", "rm", SWARM_SERVICE]).catch(() => undefined);
    await removeContainers(label, 60_000);
    await run("docker", ["swarm", "leave", "--force"]).catch((err: unknown) => {
      result.error ??= `docker swarm leave --force failed: ${errText(err)}`;
    });
    await removeContainers(label, 30_000);
    if (!gwbridgeBefore && (await networkExists("docker_gwbridge").catch(() => false))) {
      await dockerApi("DELETE", "/networks/docker_gwbridge").catch(() => undefined);
    }
  });
  const tasks = (): Promise<SwarmTask[]> =>
    dockerApi<SwarmTask[]>(
      "GET",
      `/tasks?filters=${filters({ service: [SWARM_SERVICE], "desired-state": ["running"] })}`,
    );
  const side: Side = {
    async create() {
      await run("docker", [
        "service",
        "create",
        "--detach",
        "--no-resolve-image",
        "--name",
        SWARM_SERVICE,
        "--replicas",
        String(REPLICAS),
        "--update-parallelism",
        String(PARALLELISM),
        "--stop-grace-period",
        "1s",
        BASE,
        "sleep",
        "3600",
      ]);
    },
    async update(image) {
      await run("docker", [
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--update-parallelism",
        String(PARALLELISM),
        "--image",
        image,
        SWARM_SERVICE,
      ]);
    },
    async runningWith(image) {
      // Swarm may pin a digest: "shoal-roll:a@sha256:...".
      const mine = (t: SwarmTask): boolean => (t.Spec?.ContainerSpec?.Image ?? "").split("@")[0] === image;
      return (await tasks()).filter((t) => t.Status?.State === "running" && mine(t)).length;
    },
    async completed() {
      const s = await dockerApi<{ UpdateStatus?: { State?: string } }>("GET", `/services/${SWARM_SERVICE}`);
      return s.UpdateStatus?.State === "completed";
    },
  };
  try {
    await rollAll(side, result);
  } catch (err: unknown) {
    result.error = errText(err);
  } finally {
    await undo();
  }
  return result;
}

// ---- (b) Shoal: one manager, one agent ------------------------------------------------------

async function shoalSide(): Promise<SideResult> {
  const result: SideResult = { roll_s: [], complete_s: [] };
  const root = await mkdtemp(join(tmpdir(), "shoal-bench-roll-"));
  const control = new TestControl();
  const manager = `127.0.0.1:${await freePort()}`;
  const mgr = new ShoalProcess(
    ["manager", "--listen", manager, "--data-dir", join(root, "manager"), "--log-level", "warn"],
    join(root, "manager.log"),
  );
  let agent: ShoalProcess | undefined;
  let serviceId: string | undefined;
  const undo = cleanup(async () => {
    if (serviceId !== undefined) {
      await control.call(manager, "removeService", { serviceId }).catch(() => undefined);
      await removeContainers(`com.shoal.service.id=${serviceId}`, 60_000);
    }
    control.close();
    await agent?.kill("SIGTERM");
    await mgr.kill("SIGTERM");
    await removeContainers(`com.shoal.service.name=${SHOAL_SERVICE}`, 1000);
    if (process.env["BENCH_KEEP_DIR"]) console.error(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  });
  // --manager before the rest: `service create` passes what follows its image to the container.
  const shoal = (...args: string[]): Promise<{ stdout: string }> =>
    run(process.execPath, [SHOAL_BIN, ...args.slice(0, 2), "--manager", manager, ...args.slice(2)]);
  const side: Side = {
    async create() {
      const created = await shoal(
        "service",
        "create",
        "--detach",
        "--name",
        SHOAL_SERVICE,
        "--replicas",
        String(REPLICAS),
        "--update-parallelism",
        String(PARALLELISM),
        "--stop-grace-period",
        "1s",
        BASE,
        "sleep",
        "3600",
      );
      serviceId = created.stdout.trim();
    },
    async update(image) {
      await shoal(
        "service",
        "update",
        "--detach",
        "--update-parallelism",
        String(PARALLELISM),
        "--image",
        image,
        SHOAL_SERVICE,
      );
    },
    async runningWith(image) {
      const filter = { idPrefixes: [], serviceIds: [serviceId!], nodeIds: [], desiredStates: [] };
      const { tasks } = await control.call(manager, "listTasks", { filters: filter }, 5000);
      return tasks.filter(
        (t) =>
          t.desiredState === TaskState.RUNNING &&
          t.status?.state === TaskState.RUNNING &&
          t.spec?.container?.image === image,
      ).length;
    },
    async completed() {
      const { service } = await control.call(manager, "getService", { serviceId: serviceId! }, 5000);
      return service?.updateStatus?.state === UpdateState.COMPLETED;
    },
  };
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
        "warn",
      ],
      join(root, "agent.log"),
    );
    agent.start();
    await waitUntil("the agent to be ready", async () => {
      const { nodes } = await control.call(manager, "listNodes", { filters: undefined }, 1000);
      return nodes.some((n) => n.description?.hostname === "bench-agent" && n.status?.state === NodeState.READY);
    });
    await rollAll(side, result);
  } catch (err: unknown) {
    result.error = errText(err);
  } finally {
    await undo();
  }
  return result;
}

/** The two extra tags of the base image; removed at the end (only the ones made here). */
async function makeImages(): Promise<() => Promise<void>> {
  const made: string[] = [];
  for (const tag of IMAGES) {
    const exists = await run("docker", ["image", "inspect", tag]).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await run("docker", ["tag", BASE, tag]);
      made.push(tag);
    }
  }
  return cleanup(async () => {
    for (const tag of made) await run("docker", ["rmi", tag]).catch(() => undefined);
  });
}

async function main(): Promise<void> {
  await ensureBaseImage();
  const removeImages = await makeImages();
  const swarmRun = (): Promise<SideResult & { already_in_swarm?: boolean }> =>
    swarmSide().catch((err: unknown) => ({ roll_s: [], complete_s: [], error: errText(err) }));
  const shoalRun = (): Promise<SideResult> =>
    shoalSide().catch((err: unknown) => ({ roll_s: [], complete_s: [], error: errText(err) }));
  let swarm: SideResult & { already_in_swarm?: boolean };
  let shoal: SideResult;
  try {
    if (process.env["BENCH_ORDER"] === "shoal-first") {
      shoal = await shoalRun();
      swarm = await swarmRun();
    } else {
      swarm = await swarmRun();
      shoal = await shoalRun();
    }
  } finally {
    await removeImages();
  }
  const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? round(a / b) : null);
  const swarmRoll = median(swarm.roll_s);
  const shoalRoll = median(shoal.roll_s);
  const swarmComplete = median(swarm.complete_s);
  const shoalComplete = median(shoal.complete_s);
  const line: Record<string, unknown> = {
    bench: "rolling-update-vs-swarm",
    replicas: REPLICAS,
    parallelism: PARALLELISM,
    runs: RUNS,
    swarm_roll_s: swarmRoll,
    shoal_roll_s: shoalRoll,
    ratio: ratio(shoalRoll, swarmRoll),
    swarm_complete_s: swarmComplete,
    shoal_complete_s: shoalComplete,
    complete_ratio: ratio(shoalComplete, swarmComplete),
    swarm_roll_runs_s: swarm.roll_s,
    shoal_roll_runs_s: shoal.roll_s,
    swarm_complete_runs_s: swarm.complete_s,
    shoal_complete_runs_s: shoal.complete_s,
    swarm_create_converge_s: swarm.converge_s ?? null,
    shoal_create_converge_s: shoal.converge_s ?? null,
  };
  if (swarm.error !== undefined) line["swarm_error"] = swarm.error;
  if (shoal.error !== undefined) line["shoal_error"] = shoal.error;
  console.log(JSON.stringify(line));
  if (swarm.already_in_swarm || shoal.error !== undefined || swarm.error !== undefined) process.exitCode = 1;
}

await main();
