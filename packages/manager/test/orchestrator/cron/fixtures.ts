// Scheduled jobs for the job cron's tests: a replicated job with a schedule, created at a known
// time, and readers of its job status.
import type { ScheduleOverlap } from "@shoal/shared";
import { JobRunOutcome, type JobRun, type Service } from "@shoal/shared";
import type { MemoryStore } from "../../../src/state/store/index.js";
import { service } from "../fixtures.js";

export const MINUTE = 60_000;
/** Monday 5 January 2026, 10:00:30 UTC: half a minute past a tick of "* * * * *". */
export const START = Date.UTC(2026, 0, 5, 10, 0, 30);

export interface JobOptions {
  readonly cron?: string;
  readonly timezone?: string;
  readonly overlap?: ScheduleOverlap;
  /** job_status.last_tick; default: none (the service's creation counts). */
  readonly lastTick?: number;
  readonly createdAt?: number;
}

export function scheduledJob(name: string, o: JobOptions = {}): Service {
  const s = service(name);
  s.spec!.mode = { $case: "replicatedJob", value: { maxConcurrent: 1, totalCompletions: 1 } };
  s.spec!.schedule = { cron: o.cron ?? "* * * * *", timezone: o.timezone ?? "", overlap: o.overlap ?? 0 };
  if (o.createdAt !== undefined) s.meta = { ...s.meta!, createdAt: new Date(o.createdAt) };
  if (o.lastTick !== undefined) {
    s.jobStatus = {
      jobIteration: { index: 0 },
      lastExecution: undefined,
      lastTick: new Date(o.lastTick),
      runs: [],
      skippedTicks: 0,
      lastSkippedTick: undefined,
    };
  }
  return s;
}

export function jobOf(store: MemoryStore, id: string): Service {
  const s = store.view((tx) => tx.services.get(id));
  if (s === undefined) throw new Error(`no service ${id}`);
  return s;
}

/** The runs of a job as [iteration, scheduled_for ISO time, outcome name]. */
export function runsOf(s: Service): [number, string, string][] {
  return (s.jobStatus?.runs ?? []).map((r: JobRun) => [
    r.iteration?.index ?? 0,
    r.scheduledFor?.toISOString() ?? "",
    JobRunOutcome[r.outcome],
  ]);
}

/** Ends the job's current run as the job orchestrator would. */
export async function finishRun(store: MemoryStore, id: string, outcome = JobRunOutcome.SUCCEEDED): Promise<void> {
  await store.update((tx) => {
    const s = tx.services.get(id)!;
    const iteration = s.jobStatus!.jobIteration!.index;
    s.jobStatus!.runs = s.jobStatus!.runs.map((r) => (r.iteration?.index === iteration ? { ...r, outcome } : r));
    tx.services.update(s);
  });
}
