import { describe, expect, it } from "vitest";
import { JobRunOutcome, ScheduleOverlap, Service, TaskState } from "@shoal/shared";
import { serviceTable } from "../../src/commands/service.js";
import { serviceJson } from "../../src/output/json.js";
import { scheduleLines } from "../../src/output/schedule.js";
import { prettyService } from "../../src/output/service-pretty.js";

const NOW = Date.parse("2026-01-05T10:02:20Z");

function scheduledJob(): Service {
  return Service.fromPartial({
    id: "svc1",
    spec: {
      annotations: { name: "backup" },
      mode: { $case: "replicatedJob", value: { totalCompletions: 1, maxConcurrent: 1 } },
      taskTemplate: { container: { image: "busybox" } },
      schedule: { cron: "*/5 * * * *", timezone: "", overlap: ScheduleOverlap.SKIP },
    },
    jobStatus: {
      jobIteration: { index: 2 },
      lastTick: new Date("2026-01-05T10:00:00Z"),
      skippedTicks: 1,
      lastSkippedTick: new Date("2026-01-05T10:00:00Z"),
      runs: [
        {
          iteration: { index: 1 },
          startedAt: new Date("2026-01-05T09:50:00.200Z"),
          scheduledFor: new Date("2026-01-05T09:50:00Z"),
          finishedAt: new Date("2026-01-05T09:50:09Z"),
          outcome: JobRunOutcome.SUCCEEDED,
          succeeded: 1,
        },
        {
          iteration: { index: 2 },
          startedAt: new Date("2026-01-05T09:55:00.100Z"),
          scheduledFor: new Date("2026-01-05T09:55:00Z"),
          outcome: JobRunOutcome.RUNNING,
        },
      ],
    },
  });
}

describe("scheduled jobs in the CLI's output", () => {
  it("inspect shows the schedule, the next tick and the runs with their ticks and outcomes", () => {
    expect(scheduleLines(scheduledJob(), NOW)).toEqual([
      "Schedule:",
      " Cron:\t\t*/5 * * * *",
      " Time zone:\tUTC",
      " Overlap:\tskip",
      " Next tick:\t2026-01-05T10:05:00.000Z (in 3 minutes)",
      " Last tick:\t2026-01-05T10:00:00.000Z",
      " Skipped ticks:\t1 (last 2026-01-05T10:00:00.000Z)",
    ]);
    const text = prettyService(scheduledJob(), NOW);
    expect(text).toContain(" Next tick:\t2026-01-05T10:05:00.000Z (in 3 minutes)\n");
    expect(text).toContain(
      "  1: succeeded (1 completed, 0 failed), started 2026-01-05T09:50:00.200Z, for the tick 2026-01-05T09:50:00.000Z, finished 2026-01-05T09:50:09.000Z\n",
    );
    expect(text).toContain("  2: running (0 completed, 0 failed), started 2026-01-05T09:55:00.100Z, for the tick");
  });

  it("ls adds a SCHEDULE column when a scheduled job is listed", () => {
    const other = Service.fromPartial({
      id: "svc2",
      spec: {
        annotations: { name: "web" },
        mode: { $case: "replicated", value: { replicas: 1 } },
        taskTemplate: { container: { image: "nginx" } },
      },
    });
    const task = { serviceId: "svc2", desiredState: TaskState.RUNNING, status: { state: TaskState.RUNNING } };
    expect(serviceTable([other], [task as never], NOW)).not.toContain("SCHEDULE");
    const table = serviceTable([scheduledJob(), other], [], NOW).split("\n");
    expect(table[0]).toMatch(/UPDATE STATUS +SCHEDULE$/);
    expect(table[1]).toMatch(/backup +replicated job .*\*\/5 \* \* \* \* UTC, next in 3 minutes, last running$/);
  });

  it("--json has the schedule, and each run its tick", () => {
    const json = serviceJson(scheduledJob(), [], NOW) as {
      schedule: Record<string, unknown>;
      job: { runs: { scheduledFor: string }[] };
    };
    expect(json.schedule).toEqual({
      cron: "*/5 * * * *",
      timezone: "UTC",
      overlap: "skip",
      nextTick: "2026-01-05T10:05:00.000Z",
      lastTick: "2026-01-05T10:00:00.000Z",
      skippedTicks: 1,
      lastSkippedTick: "2026-01-05T10:00:00.000Z",
    });
    expect(json.job.runs.map((r) => r.scheduledFor)).toEqual(["2026-01-05T09:50:00.000Z", "2026-01-05T09:55:00.000Z"]);
  });
});
