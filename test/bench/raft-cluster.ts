// Three managers as real processes on loopback (fsync on). Prints one JSON line per measure:
//  - write-latency-1-client: one client's sequential writes (the floor of a write's latency);
//  - write-throughput: acknowledged service writes per second with BENCH_CLIENTS (64) clients in a
//    closed loop, BENCH_WRITES (10,000) writes in all; target 10,000/s; with the CPU time each
//    process spent per write (leader, followers, this load generator), from /proc;
//  - call-floor-getinfo: the same load of GetInfo calls, which write nothing: what a Control call
//    costs by itself, the ceiling of writes made one call each;
//  - write-latency-open-loop: writes issued at a steady BENCH_RATE (2,000/s) for BENCH_RATE_SECONDS
//    (5 s) whether or not earlier ones finished; a write's latency counts from when it was due, so a
//    stall shows in the tail instead of slowing the load down; target p99 under 20 ms;
//  - failover-sigkill-leader: SIGKILL of the leader -> first write accepted by the new leader
//    (BENCH_FAILOVER_ROUNDS rounds; BENCH_SKIP_FAILOVER skips them); target under 1 s.
// The write cases count elections during their run (terms gone by; the target is none).
// Each line carries the machine's load average (1 min) before and after its case: the managers and
// this load generator share the machine, and figures mean little on a busy one.
// BENCH_NO_FSYNC runs the managers with --unsafe-no-fsync.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceSpec } from "@shoal/shared";
import { TestControl } from "../e2e/support/control-client.js";
import type { ShoalProcess } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";
import { startManagerCluster } from "../e2e/support/manager-cluster.js";

const ROUNDS = Number(process.env["BENCH_FAILOVER_ROUNDS"] ?? 5);
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 64);
const WRITES = Number(process.env["BENCH_WRITES"] ?? 10_000);
const RATE = Number(process.env["BENCH_RATE"] ?? 2000);
const RATE_SECONDS = Number(process.env["BENCH_RATE_SECONDS"] ?? 5);
const FSYNC = !process.env["BENCH_NO_FSYNC"];

interface Mgr {
  addr: string;
  proc: ShoalProcess;
}

const control = new TestControl();
let counter = 0;
const spec = (): ServiceSpec =>
  ServiceSpec.fromPartial({
    annotations: { name: `bench-${process.pid}-${counter++}` },
    taskTemplate: { container: { image: "shoal-base:1" } },
    // No replicas: this measures Raft and the store, not the orchestrators that tasks would wake.
    mode: { $case: "replicated", value: { replicas: 0 } },
  });

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Math.round(x * 10) / 10;
const load = (): number => Math.round(loadavg()[0]! * 100) / 100;

/** CPU time (user + system, ms) a process has used, from /proc (Linux); undefined elsewhere. */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name: state is the 1st, utime the 12th, stime the 13th (in 1/100 s).
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time of the leader, the followers and this load generator, to divide by the writes done. */
function cpuSplit(
  managers: Mgr[],
  leader: Mgr,
): { leader: number | undefined; followers: (number | undefined)[]; client: number } {
  const { user, system } = process.cpuUsage();
  return {
    leader: cpuMsOf(leader.proc.pid),
    followers: managers.filter((m) => m !== leader).map((m) => cpuMsOf(m.proc.pid)),
    client: (user + system) / 1000,
  };
}

/** CPU ms per write between two cpuSplit readings: where a write's cost goes. */
function cpuPerWrite(
  before: ReturnType<typeof cpuSplit>,
  after: ReturnType<typeof cpuSplit>,
  writes: number,
): Record<string, number | undefined> {
  const per = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : Math.round(((b - a) / writes) * 1000) / 1000;
  return {
    leader: per(before.leader, after.leader),
    ...Object.fromEntries(before.followers.map((f, i) => [`follower${i + 1}`, per(f, after.followers[i])])),
    load_generator: per(before.client, after.client),
  };
}

/** BENCH_WRITES calls of `call` by BENCH_CLIENTS clients, each sending its next when the last returns. */
async function closedLoop(
  managers: Mgr[],
  leader: Mgr,
  call: () => Promise<unknown>,
): Promise<{ calls: number; perSecond: number; latencies: number[]; cpu: Record<string, number | undefined> }> {
  let calls = 0;
  const latencies: number[] = [];
  const cpuBefore = cpuSplit(managers, leader);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (calls < WRITES) {
        calls++;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuPerWrite(cpuBefore, cpuSplit(managers, leader), calls);
  return { calls, perSecond: Math.round(calls / seconds), latencies, cpu };
}

/** p50, p90, p99 and max of `xs` in ms, rounded to 0.1. */
function percentiles(xs: number[]): { p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0);
  return { p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), max_ms: round(s[s.length - 1] ?? 0) };
}

/**
 * Issues writes at `rate` per second for `seconds`, each when it is due whatever the ones before
 * it are doing (open loop); latencies count from the time each was due.
 */
async function openLoop(
  addr: string,
  rate: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number; firstError?: string }> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; issued < due; issued++) {
      const dueAt = start + (issued / rate) * 1000;
      inflight.push(
        control.call(addr, "createService", { spec: spec() }, 30_000).then(
          () => void latencies.push(performance.now() - dueAt),
          (err: unknown) => {
            errors++;
            firstError ??= err instanceof Error ? err.message : String(err);
          },
        ),
      );
    }
    // Timers fire at best every millisecond: each wake-up issues what fell due meanwhile.
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  return { latencies, errors, ...(firstError === undefined ? {} : { firstError }) };
}

/** The Raft term as the managers see it (the highest answer): a change means an election. */
async function termOf(managers: Mgr[]): Promise<number> {
  const infos = await Promise.all(
    managers.map((m) => control.call(m.addr, "getInfo", {}, 2000).catch(() => undefined)),
  );
  return Math.max(0, ...infos.map((i) => i?.raft?.term ?? 0));
}

async function leaderOf(managers: Mgr[]): Promise<Mgr> {
  for (;;) {
    for (const m of managers) {
      if (!m.proc.running) continue;
      const info = await control.call(m.addr, "getInfo", {}, 500).catch(() => undefined);
      if (info?.isLeader) return m;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "shoal-bench-"));
  const managers: Mgr[] = [];
  try {
    const extra = ["--log-level", "warn", ...(process.env["BENCH_NO_FSYNC"] ? ["--unsafe-no-fsync"] : [])];
    managers.push(...(await startManagerCluster({ count: 3, root, control, args: extra })));

    // Single client latency.
    const leader = await leaderOf(managers);
    let loadBefore = load();
    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      await control.call(leader.addr, "createService", { spec: spec() });
      latencies.push(performance.now() - t0);
    }
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "write-latency-1-client",
        managers: 3,
        fsync: FSYNC,
        writes: latencies.length,
        ...percentiles(latencies),
        load_1m: [loadBefore, load()],
      }),
    );

    // Throughput with 64 concurrent clients, each sending its next write when the last returns.
    loadBefore = load();
    let termBefore = await termOf(managers);
    const writes = await closedLoop(managers, leader, () =>
      control.call(leader.addr, "createService", { spec: spec() }, 30_000),
    );
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "write-throughput",
        managers: 3,
        fsync: FSYNC,
        clients: CLIENTS,
        writes: writes.calls,
        writes_per_s: writes.perSecond,
        target_per_s: 10_000,
        latency: percentiles(writes.latencies),
        cpu_ms_per_write: writes.cpu,
        elections: (await termOf(managers)) - termBefore,
        load_1m: [loadBefore, load()],
      }),
    );

    // The same load of a call that writes nothing (GetInfo: no Raft, no store): what one Control
    // call costs by itself, a ceiling for writes made one call each.
    loadBefore = load();
    const floor = await closedLoop(managers, leader, () => control.call(leader.addr, "getInfo", {}, 30_000));
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "call-floor-getinfo",
        clients: CLIENTS,
        calls: floor.calls,
        calls_per_s: floor.perSecond,
        latency: percentiles(floor.latencies),
        cpu_ms_per_call: floor.cpu,
        load_1m: [loadBefore, load()],
      }),
    );

    // Latency at a steady offered rate.
    loadBefore = load();
    termBefore = await termOf(managers);
    const open = await openLoop(leader.addr, RATE, RATE_SECONDS);
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "write-latency-open-loop",
        managers: 3,
        fsync: FSYNC,
        offered_per_s: RATE,
        seconds: RATE_SECONDS,
        writes: open.latencies.length,
        errors: open.errors,
        ...(open.firstError === undefined ? {} : { first_error: open.firstError }),
        ...percentiles(open.latencies),
        target_p99_ms: 20,
        elections: (await termOf(managers)) - termBefore,
        load_1m: [loadBefore, load()],
      }),
    );

    if (process.env["BENCH_SKIP_FAILOVER"]) return;
    // Failover rounds.
    loadBefore = load();
    const failovers: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const old = await leaderOf(managers);
      const others = managers.filter((m) => m !== old);
      const t = performance.now();
      await old.proc.kill("SIGKILL");
      // Both survivors at once, as a client with both addresses would; a pause between rounds
      // so that retries do not take the CPU the election needs.
      for (;;) {
        const tries = others.map((m) => control.call(m.addr, "createService", { spec: spec() }, 1000));
        const accepted = await Promise.any(tries).then(
          () => true,
          () => false,
        );
        if (accepted) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      failovers.push(performance.now() - t);
      old.proc.start();
      await waitUntil("the old leader to rejoin", async () => {
        const info = await control.call(old.addr, "getInfo", {}, 500);
        return info.raft !== undefined && info.raft.leaderRaftId !== 0;
      });
      await new Promise((res) => setTimeout(res, 1500)); // let it catch up and the lease settle
    }
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "failover-sigkill-leader",
        managers: 3,
        rounds: failovers.length,
        p50_ms: round(median(failovers)),
        max_ms: round(Math.max(...failovers)),
        all_ms: failovers.map(round),
        target_max_ms: 1000,
        load_1m: [loadBefore, load()],
      }),
    );
  } finally {
    control.close();
    // SIGTERM: a clean stop (and a written profile, when profiling).
    await Promise.all(managers.map((m) => m.proc.kill("SIGTERM")));
    if (process.env["BENCH_KEEP_DIR"]) console.error(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

await main();
