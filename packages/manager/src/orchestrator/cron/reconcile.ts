// What a cron tick does to a scheduled job (pure; the job cron writes the result). The tick that
// counts is the latest one at or before now that is after job_status.last_tick: ticks missed
// while no leader ran (a leader change, a stopped cluster) start one run, not one each, and
// moving last_tick to the tick in the same write as the run makes a tick start at most one run.
// With overlap SKIP and the current run still RUNNING, the tick only moves last_tick and is
// counted in skipped_ticks. Otherwise the job's iteration goes one up with a new JobRun
// (scheduled_for the tick, by the jobs' startJobRun): runs still RUNNING become REPLACED (the job
// orchestrator shuts their tasks down), except with ALLOW, where they go on.
import {
  JobRunOutcome,
  ScheduleOverlap,
  type CronSchedule,
  type JobStatus,
  type Service,
  type ServiceSpec,
} from "@shoal/shared";
import { emptyJobStatus, startJobRun } from "../jobs/job-runs.js";

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
  const lastTick = new Date(tick);
  const status = service.jobStatus ?? emptyJobStatus();
  if (service.spec!.schedule!.overlap === ScheduleOverlap.SKIP && currentRunRunning(status)) {
    const jobStatus = { ...status, lastTick, skippedTicks: status.skippedTicks + 1, lastSkippedTick: lastTick };
    return { service: { ...service, jobStatus }, tick, outcome: "skipped" };
  }
  // A new run; earlier runs still RUNNING are REPLACED, except under ALLOW (startJobRun).
  const started = startJobRun(service, now, tick);
  return { service: { ...started, jobStatus: { ...started.jobStatus!, lastTick } }, tick, outcome: "started" };
}

/**
 * `status` (the job status after a spec change) when a schedule is given or changed (expression
 * or zone): its ticks count from `now`, so that the change does not start a run for a tick
 * before it.
 */
export function rescheduled(
  current: Service,
  spec: ServiceSpec,
  status: JobStatus | undefined,
  now: number,
): JobStatus | undefined {
  const before = current.spec?.schedule;
  const after = spec.schedule;
  if (after === undefined || (before?.cron === after.cron && before.timezone === after.timezone)) return status;
  return { ...(status ?? emptyJobStatus()), lastTick: new Date(now) };
}
