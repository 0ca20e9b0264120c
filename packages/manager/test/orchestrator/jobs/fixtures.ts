// Jobs for the job orchestrator's tests: a replicated or global job with its first run started.
import type { ScheduleOverlap } from "@shoal/shared";
import { RestartCondition, type Service, type Task } from "@shoal/shared";
import { jobStatusOnCreate } from "../../../src/orchestrator/jobs/job-runs.js";
import { restartPolicy, service, task, type RestartOptions, type TaskOptions } from "../fixtures.js";

export interface JobOptions {
  readonly total?: number;
  readonly maxConcurrent?: number;
  readonly global?: boolean;
  readonly restart?: RestartOptions;
  readonly overlap?: ScheduleOverlap;
  /** When the first run started (ms). */
  readonly now?: number;
}

export function job(name: string, o: JobOptions = {}): Service {
  const s = service(name);
  s.spec!.mode = o.global
    ? { $case: "globalJob", value: {} }
    : { $case: "replicatedJob", value: { totalCompletions: o.total ?? 1, maxConcurrent: o.maxConcurrent ?? 0 } };
  s.spec!.taskTemplate!.restartPolicy = restartPolicy({ condition: RestartCondition.ON_FAILURE, ...o.restart });
  s.jobStatus = jobStatusOnCreate(s, o.now ?? 0); // before the schedule: its first run started
  if (o.overlap !== undefined) s.spec!.schedule = { cron: "*/5 * * * *", timezone: "", overlap: o.overlap };
  return s;
}

/** A task of run `iteration` of `svc` (see task() for the options). */
export function jobTask(svc: Service, iteration: number, o: TaskOptions = {}): Task {
  return { ...task(svc, o), jobIteration: { index: iteration } };
}
