// Three managers as real processes on loopback (fsync on):
//  - failover: SIGKILL of the leader -> first write accepted by the new leader (several rounds);
//  - write throughput: committed service writes per second with 64 concurrent clients;
//  - latency: median of a single client's sequential writes.
// Prints one JSON line per measure.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceSpec } from "@shoal/shared";
import { TestControl } from "../e2e/support/control-client.js";
import type { ShoalProcess } from "../e2e/support/shoal-process.js";
import { waitUntil } from "../e2e/support/wait.js";
import { startManagerCluster } from "../e2e/support/manager-cluster.js";

const ROUNDS = Number(process.env["BENCH_FAILOVER_ROUNDS"] ?? 5);
const CLIENTS = Number(process.env["BENCH_CLIENTS"] ?? 64);
const WRITES = Number(process.env["BENCH_WRITES"] ?? 10_000);

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
        fsync: true,
        writes: latencies.length,
        p50_ms: round(median(latencies)),
        p99_ms: round([...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.99)]!),
      }),
    );

    // Throughput with 64 concurrent clients.
    let done = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (done < WRITES) {
          done++;
          await control.call(leader.addr, "createService", { spec: spec() }, 30_000);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({
        bench: "raft-cluster",
        case: "write-throughput",
        managers: 3,
        fsync: true,
        clients: CLIENTS,
        writes: done,
        writes_per_s: Math.round(done / seconds),
        target_per_s: 5000,
      }),
    );

    if (process.env["BENCH_SKIP_FAILOVER"]) return;
    // Failover rounds.
    const failovers: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const old = await leaderOf(managers);
      const others = managers.filter((m) => m !== old);
      const t = performance.now();
      await old.proc.kill("SIGKILL");
      let accepted = false;
      while (!accepted) {
        for (const m of others) {
          try {
            await control.call(m.addr, "createService", { spec: spec() }, 1000);
            accepted = true;
            break;
          } catch {
            // no leader yet
          }
        }
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
        target_p50_ms: 1000,
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
