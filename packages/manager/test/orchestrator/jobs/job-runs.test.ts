import { JobRunOutcome, ScheduleOverlap } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  MAX_JOB_RUNS,
  jobStatusOnCreate,
  jobStatusOnUpdate,
  settleJobRuns,
  startJobRun,
} from "../../../src/orchestrator/jobs/job-runs.js";
import { service } from "../fixtures.js";
import { job } from "./fixtures.js";

const outcomes = (s: ReturnType<typeof job>) => s.jobStatus!.runs.map((r) => [r.iteration!.index, r.outcome]);

describe("job runs", () => {
  it("starts the first run when a job is created, and none for a service", () => {
    const status = jobStatusOnCreate(job("once"), 5_000)!;
    expect(status.jobIteration).toEqual({ index: 1 });
    expect(status.lastExecution).toEqual(new Date(5_000));
    expect(status.runs).toEqual([
      {
        iteration: { index: 1 },
        startedAt: new Date(5_000),
        scheduledFor: undefined,
        finishedAt: undefined,
        outcome: JobRunOutcome.RUNNING,
        succeeded: 0,
        failed: 0,
      },
    ]);
    expect(jobStatusOnCreate(service("web"), 5_000)).toBeUndefined();
  });

  it("waits for the first tick of a scheduled job", () => {
    const s = job("nightly");
    s.spec!.schedule = { cron: "0 3 * * *", timezone: "", overlap: ScheduleOverlap.SKIP };
    const status = jobStatusOnCreate({ ...s, jobStatus: undefined }, 7_000)!;
    expect(status).toMatchObject({ jobIteration: { index: 0 }, lastTick: new Date(7_000), runs: [] });
  });

  it("counts iterations, replaces the run in progress and keeps the last ten", () => {
    let s = job("batch", { now: 0 });
    s = startJobRun(s, 1_000, 900);
    expect(s.jobStatus!.jobIteration).toEqual({ index: 2 });
    expect(s.jobStatus!.runs[0]).toMatchObject({ outcome: JobRunOutcome.REPLACED, finishedAt: new Date(1_000) });
    expect(s.jobStatus!.runs[1]).toMatchObject({
      iteration: { index: 2 },
      startedAt: new Date(1_000),
      scheduledFor: new Date(900),
      outcome: JobRunOutcome.RUNNING,
    });
    s = settleJobRuns(s, new Map([[2, { outcome: JobRunOutcome.SUCCEEDED, succeeded: 1, failed: 0 }]]), 1_500)!;
    s = startJobRun(s, 2_000);
    expect(s.jobStatus!.runs[1]).toMatchObject({ outcome: JobRunOutcome.SUCCEEDED, finishedAt: new Date(1_500) });
    for (let i = 0; i < 12; i++) s = startJobRun(s, 3_000 + i);
    expect(s.jobStatus!.runs).toHaveLength(MAX_JOB_RUNS);
    expect(s.jobStatus!.runs.map((r) => r.iteration!.index)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it("leaves earlier runs running under schedule overlap ALLOW", () => {
    const s = startJobRun(job("allow", { overlap: ScheduleOverlap.ALLOW }), 1_000);
    expect(outcomes(s)).toEqual([
      [1, JobRunOutcome.RUNNING],
      [2, JobRunOutcome.RUNNING],
    ]);
  });

  it("starts a run on a spec change or --force, and a scheduled job's only on --force", () => {
    const s = job("batch");
    const same = jobStatusOnUpdate(s, s.spec!, 1_000)!;
    expect(same.jobIteration).toEqual({ index: 1 });
    const changed = { ...s.spec!, annotations: { name: "batch", labels: { a: "b" } } };
    expect(jobStatusOnUpdate(s, changed, 1_000)!.jobIteration).toEqual({ index: 2 });
    const forced = { ...s.spec!, taskTemplate: { ...s.spec!.taskTemplate!, forceUpdate: 1 } };
    expect(jobStatusOnUpdate(s, forced, 1_000)!.jobIteration).toEqual({ index: 2 });

    const scheduled = job("cron", { overlap: ScheduleOverlap.SKIP });
    const relabelled = { ...scheduled.spec!, annotations: { name: "cron", labels: { a: "b" } } };
    expect(jobStatusOnUpdate(scheduled, relabelled, 1_000)!.jobIteration).toEqual({ index: 1 });
    const forcedCron = { ...scheduled.spec!, taskTemplate: { ...scheduled.spec!.taskTemplate!, forceUpdate: 1 } };
    expect(jobStatusOnUpdate(scheduled, forcedCron, 1_000)!.jobIteration).toEqual({ index: 2 });
  });

  it("settles only runs still running, and says when nothing changed", () => {
    const s = job("batch");
    const running = new Map([[1, { outcome: JobRunOutcome.RUNNING, succeeded: 0, failed: 0 }]]);
    expect(settleJobRuns(s, running, 1_000)).toBeUndefined();
    const failed = settleJobRuns(s, new Map([[1, { outcome: JobRunOutcome.FAILED, succeeded: 2, failed: 3 }]]), 9)!;
    expect(failed.jobStatus!.runs[0]).toMatchObject({
      outcome: JobRunOutcome.FAILED,
      succeeded: 2,
      failed: 3,
      finishedAt: new Date(9),
    });
    const again = new Map([[1, { outcome: JobRunOutcome.SUCCEEDED, succeeded: 5, failed: 0 }]]);
    expect(settleJobRuns(failed, again, 10)).toBeUndefined();
  });
});
