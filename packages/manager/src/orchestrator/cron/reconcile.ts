// What a cron tick does to a scheduled job (pure; the job cron writes the result). The tick that
// counts is the latest one at or before now that is after job_status.last_tick: ticks missed
// while no leader ran (a leader change, a stopped cluster) start one run, not one each, and
// moving last_tick to the tick in the same write as the run makes a tick start at most one run.
// With overlap SKIP and the current run still RUNNING, the tick only moves last_tick and is
// counted in skipped_ticks. Otherwise the job's iteration goes one up with a new JobRun
// (scheduled_for the tick); with REPLACE, runs still RUNNING become REPLACED (the job
// orchestrator shuts their tasks down), with ALLOW and SKIP they are left as they are.
import {
  JobRunOutcome,
  ScheduleOverlap,
  type CronSchedule,
  type JobRun,
  type JobStatus,
  type Service,
  type ServiceSpec,
} from "@shoal/shared";

/** Runs kept in job_status.runs (the proto's "at most 10"). */
export const RUN_HISTORY = 10;

/** Whether a service is a job with a schedule. */
export function isScheduledJob(service: Service): boolean {
  const mode = service.spec?.mode?.$case;
  return service.spec?.schedule !== undefined && (mode === "replicatedJob" || mode === "globalJob");
}

/** The last tick a run was started or skipped for; before any, the service's creation. */
export function lastTickOf(service: Service): number {
  const at = service.jobStatus?.lastTick ?? service.meta?.createdAt;
  return at === undefined ? 0 : at.getTime();
}

/** The tick due at `now` (latest tick <= now, after the last one handled), if any. */
export function dueTick(service: Service, schedule: CronSchedule, now: number): number | undefined {
  const tick = schedule.latestAtOrBefore(now);
  return tick !== undefined && tick > lastTickOf(service) ? tick : undefined;
}

/** Whether the job's current run has not finished. */
export function currentRunRunning(status: JobStatus | undefined): boolean {
  const iteration = status?.jobIteration?.index ?? 0;
  if (iteration === 0) return false;
  const run = status?.runs.find((r) => r.iteration?.index === iteration);
  return run !== undefined && run.outcome === JobRunOutcome.RUNNING;
}

export type TickOutcome = "started" | "skipped";

/** The service after the tick due at `now`, or undefined when no tick is due. Does not change `service`. */
export function planTick(
  service: Service,
  schedule: CronSchedule,
  now: number,
): { service: Service; tick: number; outcome: TickOutcome } | undefined {
  if (!isScheduledJob(service)) return undefined;
  const tick = dueTick(service, schedule, now);
  if (tick === undefined) return undefined;
  const status = emptyStatus(service.jobStatus);
  const overlap = service.spec!.schedule!.overlap;
  if (overlap === ScheduleOverlap.SKIP && currentRunRunning(status)) {
    const jobStatus = { ...status, lastTick: new Date(tick), skippedTicks: status.skippedTicks + 1 };
    jobStatus.lastSkippedTick = new Date(tick);
    return { service: { ...service, jobStatus }, tick, outcome: "skipped" };
  }
  const jobStatus = startScheduledRun(status, {
    now,
    tick,
    replace: overlap === ScheduleOverlap.REPLACE,
  });
  return { service: { ...service, jobStatus }, tick, outcome: "started" };
}

/**
 * A new run of the job: the iteration one up, started now, for `tick`, and the history trimmed
 * to RUN_HISTORY; `replace` ends the runs still RUNNING as REPLACED.
 */
export function startScheduledRun(
  status: JobStatus,
  o: { readonly now: number; readonly tick: number; readonly replace: boolean },
): JobStatus {
  const iteration = { index: (status.jobIteration?.index ?? 0) + 1 };
  const now = new Date(o.now);
  const older: JobRun[] = status.runs.map((r) =>
    o.replace && r.outcome === JobRunOutcome.RUNNING ? { ...r, outcome: JobRunOutcome.REPLACED, finishedAt: now } : r,
  );
  const run: JobRun = {
    iteration,
    startedAt: now,
    scheduledFor: new Date(o.tick),
    finishedAt: undefined,
    outcome: JobRunOutcome.RUNNING,
    succeeded: 0,
    failed: 0,
  };
  return {
    ...status,
    jobIteration: iteration,
    lastExecution: now,
    lastTick: new Date(o.tick),
    runs: [...older, run].slice(-RUN_HISTORY),
  };
}

function emptyStatus(status: JobStatus | undefined): JobStatus {
  return (
    status ?? {
      jobIteration: undefined,
      lastExecution: undefined,
      lastTick: undefined,
      runs: [],
      skippedTicks: 0,
      lastSkippedTick: undefined,
    }
  );
}

/**
 * A job status after a spec change: a schedule given or changed (expression or zone) counts its
 * ticks from `now`, so that the change does not start a run for a tick before it.
 */
export function rescheduled(current: Service, spec: ServiceSpec, now: number): JobStatus | undefined {
  const before = current.spec?.schedule;
  const after = spec.schedule;
  if (after === undefined || (before?.cron === after.cron && before.timezone === after.timezone)) {
    return current.jobStatus;
  }
  return { ...emptyStatus(current.jobStatus), lastTick: new Date(now) };
}
