// A job's runs, as the service records them (Service.job_status): the iteration counter and the
// history of the latest runs. Pure functions on a service; whoever starts or settles a run
// writes the service they return in its own transaction.
//
// - A run starts (startJobRun) when the job is created, its spec changes, `update --force`, or a
//   schedule tick (scheduled jobs). The iteration goes one up; the new run is appended with
//   outcome RUNNING; at most MAX_JOB_RUNS runs are kept, the oldest dropped. Older runs still
//   RUNNING are REPLACED (their tasks are shut down), except under schedule overlap ALLOW, where
//   they are left to finish and the job orchestrator settles them as for the current run.
// - The Control API decides when a write starts a run (jobStatusOnCreate, jobStatusOnUpdate): a
//   scheduled job starts with iteration 0 (no run until its first tick, last_tick = creation);
//   a change of its spec alone starts no run, `update --force` starts one at once.
// - The job orchestrator settles runs (settleJobRuns): SUCCEEDED, FAILED or REPLACED, with the
//   counts of tasks that completed and failed and when it finished.
import { JobRunOutcome, ScheduleOverlap, ServiceSpec, type JobRun, type JobStatus, type Service } from "@shoal/shared";
import { isJobService, jobIteration } from "../task-factory.js";

/** Runs kept in Service.job_status.runs. */
export const MAX_JOB_RUNS = 10;

/** How one run ended, as the job orchestrator found it. */
export interface RunResult {
  readonly outcome: JobRunOutcome;
  readonly succeeded: number;
  readonly failed: number;
}

export function emptyJobStatus(): JobStatus {
  return {
    jobIteration: undefined,
    lastExecution: undefined,
    lastTick: undefined,
    runs: [],
    skippedTicks: 0,
    lastSkippedTick: undefined,
  };
}

function overlapAllowed(service: Service): boolean {
  return service.spec?.schedule?.overlap === ScheduleOverlap.ALLOW;
}

/**
 * `service` with a new run started at `now` (ms): iteration + 1, last_execution = now, the run
 * appended (scheduled_for: the tick it runs for, if any). Earlier runs still RUNNING become
 * REPLACED, finished now, unless the schedule's overlap is ALLOW. Does not change last_tick.
 */
export function startJobRun(service: Service, now: number, scheduledFor?: number): Service {
  const status = service.jobStatus ?? emptyJobStatus();
  const iteration = jobIteration(service) + 1;
  const keep = overlapAllowed(service);
  const runs = status.runs.map((r) =>
    r.outcome === JobRunOutcome.RUNNING && !keep
      ? { ...r, outcome: JobRunOutcome.REPLACED, finishedAt: new Date(now) }
      : r,
  );
  runs.push({
    iteration: { index: iteration },
    startedAt: new Date(now),
    scheduledFor: scheduledFor === undefined ? undefined : new Date(scheduledFor),
    finishedAt: undefined,
    outcome: JobRunOutcome.RUNNING,
    succeeded: 0,
    failed: 0,
  });
  return {
    ...service,
    jobStatus: {
      ...status,
      jobIteration: { index: iteration },
      lastExecution: new Date(now),
      runs: runs.slice(-MAX_JOB_RUNS),
    },
  };
}

/** The job status of a service created at `now`; undefined for a service that is not a job. */
export function jobStatusOnCreate(service: Service, now: number): JobStatus | undefined {
  if (!isJobService(service)) return undefined;
  if (service.spec?.schedule !== undefined) {
    return { ...emptyJobStatus(), jobIteration: { index: 0 }, lastTick: new Date(now) };
  }
  return startJobRun({ ...service, jobStatus: undefined }, now).jobStatus;
}

/**
 * The job status after `current`'s spec is replaced by `spec` at `now`: a new run on any change
 * of the spec, or, for a scheduled job, only on `update --force` (force_update changed).
 */
export function jobStatusOnUpdate(current: Service, spec: ServiceSpec, now: number): JobStatus | undefined {
  const next: Service = { ...current, spec };
  if (!isJobService(next)) return undefined;
  const force = (spec.taskTemplate?.forceUpdate ?? 0) !== (current.spec?.taskTemplate?.forceUpdate ?? 0);
  const run = spec.schedule !== undefined ? force : force || !sameSpec(current.spec, spec);
  return run ? startJobRun(next, now).jobStatus : (current.jobStatus ?? emptyJobStatus());
}

function sameSpec(a: ServiceSpec | undefined, b: ServiceSpec): boolean {
  const bytes = (x: ServiceSpec | undefined): string =>
    Buffer.from(ServiceSpec.encode(ServiceSpec.fromPartial(x ?? {})).finish()).toString("base64");
  return bytes(a) === bytes(b);
}

/**
 * `service` with its runs settled by `results` (by iteration) at `now`: each run still RUNNING
 * that has a result other than RUNNING takes its outcome, counts and finished_at. Undefined when
 * nothing changes.
 */
export function settleJobRuns(
  service: Service,
  results: ReadonlyMap<number, RunResult>,
  now: number,
): Service | undefined {
  const status = service.jobStatus;
  if (status === undefined) return undefined;
  let changed = false;
  const runs = status.runs.map((r): JobRun => {
    const result = results.get(r.iteration?.index ?? 0);
    if (r.outcome !== JobRunOutcome.RUNNING || result === undefined || result.outcome === JobRunOutcome.RUNNING)
      return r;
    changed = true;
    return { ...r, ...result, finishedAt: new Date(now) };
  });
  return changed ? { ...service, jobStatus: { ...status, runs } } : undefined;
}

/** The runs of `service` still RUNNING, by iteration. */
export function runningIterations(service: Service): number[] {
  return (service.jobStatus?.runs ?? [])
    .filter((r) => r.outcome === JobRunOutcome.RUNNING)
    .map((r) => r.iteration?.index ?? 0);
}
