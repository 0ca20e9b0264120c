import { TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { startJobRun } from "../../../src/orchestrator/jobs/job-runs.js";
import { jobProgress, jobProgressText } from "../../../src/orchestrator/jobs/progress.js";
import { service, task } from "../fixtures.js";
import { job, jobTask } from "./fixtures.js";

describe("jobProgress", () => {
  it("counts the current run of a replicated job as docker service ls shows it", () => {
    let svc = job("batch", { total: 10, maxConcurrent: 3 });
    const old = jobTask(svc, 1, { slot: 1, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN });
    svc = startJobRun(svc, 1_000);
    const tasks = [
      old,
      jobTask(svc, 2, { slot: 1, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 2, { slot: 2, state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 2, { slot: 3, state: TaskState.RUNNING }),
      jobTask(svc, 2, { slot: 4, state: TaskState.PENDING }),
    ];
    const p = jobProgress(svc, tasks)!;
    expect(p).toEqual({ running: 1, desired: 3, completed: 2, total: 10 });
    expect(jobProgressText(p)).toBe("1/3 (2/10 completed)");
  });

  it("counts a global job's nodes: still to complete, and completed", () => {
    const svc = job("setup", { global: true });
    const tasks = [
      jobTask(svc, 1, { nodeId: "a", state: TaskState.COMPLETE, desired: TaskState.SHUTDOWN }),
      jobTask(svc, 1, { nodeId: "b", state: TaskState.RUNNING }),
      jobTask(svc, 1, { nodeId: "c", state: TaskState.PENDING }),
    ];
    expect(jobProgressText(jobProgress(svc, tasks)!)).toBe("1/2 (1/3 completed)");
  });

  it("is undefined for a service", () => {
    const web = service("web");
    expect(jobProgress(web, [task(web, { slot: 1 })])).toBeUndefined();
  });
});
