import { describe, expect, it } from "vitest";
import { JobRunOutcome, ScheduleOverlap, cronSchedule, type Service } from "@shoal/shared";
import { planTick, rescheduled } from "../../../src/orchestrator/cron/reconcile.js";
import { MAX_JOB_RUNS } from "../../../src/orchestrator/jobs/job-runs.js";
import { MINUTE, START, runsOf, scheduledJob } from "./fixtures.js";

const everyMinute = cronSchedule({ cron: "* * * * *", timezone: "" });
const iso = (ms: number): string => new Date(ms).toISOString();
const TICK = START - 30_000; // 10:00:00

/** Applies every due tick at `now` (as a pass would) and returns the new service, or the same. */
function tick(s: Service, now: number, schedule = everyMinute): Service {
  return planTick(s, schedule, now)?.service ?? s;
}

describe("planTick", () => {
  it("starts no run before the first tick after the job's last tick", () => {
    const s = scheduledJob("job", { lastTick: START });
    expect(planTick(s, everyMinute, START + 29_999)).toBeUndefined();
    const started = planTick(s, everyMinute, START + 30_000)!;
    expect(started.outcome).toBe("started");
    expect(iso(started.tick)).toBe("2026-01-05T10:01:00.000Z");
    expect(started.service.jobStatus!.jobIteration!.index).toBe(1);
    expect(started.service.jobStatus!.lastTick!.getTime()).toBe(started.tick);
    expect(started.service.jobStatus!.lastExecution!.getTime()).toBe(START + 30_000);
    expect(runsOf(started.service)).toEqual([[1, "2026-01-05T10:01:00.000Z", "RUNNING"]]);
    // Asked again at the same time, or later within the minute: nothing more.
    expect(planTick(started.service, everyMinute, START + 30_000)).toBeUndefined();
    expect(planTick(started.service, everyMinute, START + 89_999)).toBeUndefined();
    // The service given is not changed.
    expect(s.jobStatus!.runs).toEqual([]);
  });

  it("counts from the creation when the job has no last tick", () => {
    const s = scheduledJob("job", { createdAt: START });
    expect(planTick(s, everyMinute, START + 10_000)).toBeUndefined();
    expect(iso(planTick(s, everyMinute, START + 30_000)!.tick)).toBe("2026-01-05T10:01:00.000Z");
  });

  it("runs ticks missed for a while once, for the latest of them", () => {
    const s = scheduledJob("job", { lastTick: TICK });
    const after = planTick(s, everyMinute, TICK + 7 * MINUTE + 5_000)!;
    expect(runsOf(after.service)).toEqual([[1, "2026-01-05T10:07:00.000Z", "RUNNING"]]);
    expect(planTick(after.service, everyMinute, TICK + 7 * MINUTE + 59_000)).toBeUndefined();
  });

  it("reads the schedule in its time zone across a DST change", () => {
    // 02:30 every day in Paris; on 29 March 2026 02:30 does not exist and the run comes at 03:00 CEST.
    const schedule = cronSchedule({ cron: "30 2 * * *", timezone: "Europe/Paris" });
    let s = scheduledJob("job", { lastTick: Date.UTC(2026, 2, 27, 12), overlap: ScheduleOverlap.ALLOW });
    for (let h = 0; h < 3 * 24; h++) s = tick(s, Date.UTC(2026, 2, 27, 12 + h), schedule);
    expect(runsOf(s).map(([i, at]) => [i, at])).toEqual([
      [1, "2026-03-28T01:30:00.000Z"],
      [2, "2026-03-29T01:00:00.000Z"],
      [3, "2026-03-30T00:30:00.000Z"],
    ]);
  });

  it("skip: a tick while the run goes on starts nothing and is counted", () => {
    let s = scheduledJob("job", { lastTick: TICK, overlap: ScheduleOverlap.SKIP });
    s = tick(s, TICK + MINUTE);
    const skipped = planTick(s, everyMinute, TICK + 2 * MINUTE)!;
    expect(skipped.outcome).toBe("skipped");
    expect(skipped.service.jobStatus!.jobIteration!.index).toBe(1);
    expect(skipped.service.jobStatus!.skippedTicks).toBe(1);
    expect(iso(skipped.service.jobStatus!.lastSkippedTick!.getTime())).toBe("2026-01-05T10:02:00.000Z");
    expect(iso(skipped.service.jobStatus!.lastTick!.getTime())).toBe("2026-01-05T10:02:00.000Z");
    expect(planTick(skipped.service, everyMinute, TICK + 2 * MINUTE + 1)).toBeUndefined();
    // Once the run has ended, the next tick starts the next run.
    const done = skipped.service;
    done.jobStatus!.runs[0]!.outcome = JobRunOutcome.SUCCEEDED;
    expect(runsOf(tick(done, TICK + 3 * MINUTE))).toEqual([
      [1, "2026-01-05T10:01:00.000Z", "SUCCEEDED"],
      [2, "2026-01-05T10:03:00.000Z", "RUNNING"],
    ]);
  });

  it("allow: a new run beside the one going on", () => {
    let s = scheduledJob("job", { lastTick: TICK, overlap: ScheduleOverlap.ALLOW });
    s = tick(tick(s, TICK + MINUTE), TICK + 2 * MINUTE);
    expect(runsOf(s)).toEqual([
      [1, "2026-01-05T10:01:00.000Z", "RUNNING"],
      [2, "2026-01-05T10:02:00.000Z", "RUNNING"],
    ]);
    expect(s.jobStatus!.jobIteration!.index).toBe(2);
  });

  it("replace: the run going on is replaced by the new one", () => {
    let s = scheduledJob("job", { lastTick: TICK, overlap: ScheduleOverlap.REPLACE });
    s = tick(tick(s, TICK + MINUTE), TICK + 2 * MINUTE + 3_000);
    expect(runsOf(s)).toEqual([
      [1, "2026-01-05T10:01:00.000Z", "REPLACED"],
      [2, "2026-01-05T10:02:00.000Z", "RUNNING"],
    ]);
    expect(s.jobStatus!.runs[0]!.finishedAt!.getTime()).toBe(TICK + 2 * MINUTE + 3_000);
  });

  it(`keeps the last ${MAX_JOB_RUNS} runs`, () => {
    let s = scheduledJob("job", { lastTick: TICK, overlap: ScheduleOverlap.ALLOW });
    for (let i = 1; i <= 12; i++) s = tick(s, TICK + i * MINUTE);
    expect(runsOf(s).map(([i]) => i)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("leaves services that are not scheduled jobs alone", () => {
    const s = scheduledJob("job", { lastTick: TICK });
    s.spec!.mode = { $case: "replicated", value: { replicas: 1 } };
    expect(planTick(s, everyMinute, TICK + 5 * MINUTE)).toBeUndefined();
  });

  it("a changed schedule counts its ticks from the change, not from the last tick", () => {
    const s = tick(scheduledJob("job", { lastTick: TICK }), TICK + MINUTE);
    const same = { ...s.spec!, schedule: { ...s.spec!.schedule!, overlap: ScheduleOverlap.ALLOW } };
    expect(rescheduled(s, same, s.jobStatus, TICK + 90_000)).toBe(s.jobStatus);
    const hourly = { ...s.spec!, schedule: { ...s.spec!.schedule!, cron: "30 * * * *" } };
    const status = rescheduled(s, hourly, s.jobStatus, TICK + 35 * MINUTE)!;
    expect(status.lastTick!.getTime()).toBe(TICK + 35 * MINUTE);
    expect(status.jobIteration).toEqual(s.jobStatus!.jobIteration);
    // Changed at 10:35: 10:30 is after the last tick (10:01) but before the change, no run for it.
    const changed = { ...s, spec: hourly, jobStatus: status };
    const hourlySchedule = cronSchedule({ cron: "30 * * * *", timezone: "" });
    expect(planTick(changed, hourlySchedule, TICK + 40 * MINUTE)).toBeUndefined();
    changed.jobStatus = { ...status, lastTick: new Date(TICK + 20 * MINUTE) };
    expect(iso(planTick(changed, hourlySchedule, TICK + 40 * MINUTE)!.tick)).toBe("2026-01-05T10:30:00.000Z");
  });
});
