// The failover part of the scale bench (BENCH_FAILOVER=1): once every replica runs, SIGKILL the
// leader and measure, with the whole store in place (100,000 tasks at full size):
//  - failover_ms: from the kill to the first write a remaining manager accepts (a service of no
//    replicas; the target: under 1 s);
//  - after_failover: whether the replicas kept running (the agents' tasks go on while the
//    managers elect; a new leader must not replace them), polled until all run again or 60 s.
import { ServiceSpec, TaskState, type Task } from "@shoal/shared";
import type { TestControl } from "../e2e/support/control-client.js";
import type { ShoalProcess } from "../e2e/support/shoal-process.js";

interface Mgr {
  readonly addr: string;
  readonly proc: ShoalProcess;
}

export interface FailoverResult {
  readonly failover_ms: number;
  /** Seconds from the kill until every replica ran again, none in two places (null: not in 60 s). */
  readonly all_running_again_s: number | null;
  /** Replicas replaced (desired state past running) between the kill and the end. */
  readonly replaced_after_failover: number;
  readonly duplicate_slots_after_failover: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function measureFailover(
  control: TestControl,
  managers: readonly Mgr[],
  leader: Mgr,
  replicas: number,
  listTasks: () => Promise<Task[]>,
): Promise<FailoverResult> {
  const replacedBefore = (await listTasks()).filter((t) => t.desiredState > TaskState.RUNNING).length;
  const rest = managers.filter((m) => m !== leader);
  const t0 = performance.now();
  await leader.proc.kill("SIGKILL");
  let failoverMs: number | undefined;
  for (let i = 0; failoverMs === undefined; i++) {
    for (const m of rest) {
      const spec = ServiceSpec.fromPartial({
        annotations: { name: `failover-probe-${i}-${rest.indexOf(m)}` },
        taskTemplate: { container: { image: "shoal-base:1" } },
        mode: { $case: "replicated", value: { replicas: 0 } },
      });
      const a0 = performance.now();
      const ok = await control.call(m.addr, "createService", { spec }, 1_000).then(
        () => true,
        (err: unknown) => {
          if (process.env["BENCH_FAILOVER_TRACE"])
            console.error(
              `+${Math.round(a0 - t0)} ms ${m.addr}: ${Math.round(performance.now() - a0)} ms ${String(err)}`,
            );
          return false;
        },
      );
      if (ok) {
        failoverMs = performance.now() - t0;
        break;
      }
    }
    if (failoverMs === undefined) await sleep(20);
    if (performance.now() - t0 > 60_000) throw new Error("no write accepted within 60 s of the leader's kill");
  }
  // The agents' tasks run on; every replica should be RUNNING again (as the store sees it).
  let allRunningAgain: number | null = null;
  let replaced = 0;
  let duplicates = 0;
  while (performance.now() - t0 < 60_000) {
    const tasks = await listTasks().catch(() => undefined);
    if (tasks !== undefined) {
      replaced = tasks.filter((t) => t.desiredState > TaskState.RUNNING).length - replacedBefore;
      const live = tasks.filter((t) => t.desiredState <= TaskState.RUNNING);
      duplicates = live.length - new Set(live.map((t) => t.slot)).size;
      const running = live.filter((t) => t.status?.state === TaskState.RUNNING).length;
      if (running >= replicas && duplicates === 0) {
        allRunningAgain = Math.round((performance.now() - t0) / 100) / 10;
        break;
      }
    }
    await sleep(1_000);
  }
  return {
    failover_ms: Math.round(failoverMs),
    all_running_again_s: allRunningAgain,
    replaced_after_failover: replaced,
    duplicate_slots_after_failover: duplicates,
  };
}
