import { describe, expect, it } from "vitest";
import { JobRunOutcome, Service, Task, TaskState, UpdateState } from "@shoal/shared";
import { replicaCount, replicaCountOf, replicasText, serviceJson, updateStateName } from "../../src/output/json.js";
import { serviceTable } from "../../src/commands/service.js";

describe("service JSON", () => {
  it("names update states as Swarm does", () => {
    expect(updateStateName(UpdateState.UPDATING)).toBe("updating");
    expect(updateStateName(UpdateState.ROLLBACK_COMPLETED)).toBe("rollback_completed");
    expect(updateStateName(UpdateState.UNKNOWN)).toBe("");
    expect(updateStateName(undefined)).toBe("");
  });

  it("shows REPLICAS from the manager's counts, or from the tasks of an older manager", () => {
    const web = Service.fromPartial({
      id: "w",
      spec: { annotations: { name: "web" }, mode: { $case: "replicated", value: { replicas: 3 } } },
    });
    const counts = new Map([
      ["w", replicaCountOf({ serviceId: "w", running: 2, unhealthy: 1, desired: 3, completed: 0, total: 0 }, false)],
    ]);
    expect(serviceJson(web, counts).replicas).toEqual({ running: 2, desired: 3 });
    expect(serviceTable([web], counts)).toMatch(/web\s+replicated\s+2\/3/);
    const tasks = [
      Task.fromPartial({
        id: "t1",
        serviceId: "w",
        desiredState: TaskState.RUNNING,
        status: { state: TaskState.RUNNING },
      }),
    ];
    expect(serviceJson(web, tasks).replicas).toEqual({ running: 1, desired: 3 });
    const job = replicaCountOf({ serviceId: "j", running: 1, unhealthy: 0, desired: 2, completed: 3, total: 4 }, true);
    expect(replicasText(job)).toBe("1/2 (3/4 completed)");
  });

  it("gives the update status, or null before the first update", () => {
    const service = Service.fromPartial({
      id: "s",
      updateStatus: { state: UpdateState.PAUSED, startedAt: new Date(0), message: "paused" },
    });
    expect(serviceJson(service, []).updateStatus).toEqual({
      state: "paused",
      message: "paused",
      startedAt: "1970-01-01T00:00:00.000Z",
      completedAt: "",
    });
    expect(serviceJson(Service.fromPartial({ id: "s" }), []).updateStatus).toBeNull();
  });

  it("shows a job's mode, completions and runs, as docker service ls shows its REPLICAS", () => {
    const job = Service.fromPartial({
      id: "j0000000000000000000000001",
      spec: {
        annotations: { name: "batch" },
        mode: { $case: "replicatedJob", value: { totalCompletions: 10, maxConcurrent: 3 } },
      },
      jobStatus: {
        jobIteration: { index: 1 },
        runs: [{ iteration: { index: 1 }, outcome: JobRunOutcome.RUNNING, startedAt: new Date(0) }],
      },
    });
    const task = (slot: number, state: TaskState, desired: TaskState) =>
      Task.fromPartial({
        id: `t${slot}`,
        serviceId: job.id,
        slot,
        jobIteration: { index: 1 },
        desiredState: desired,
        status: { state },
      });
    const tasks = [
      task(1, TaskState.COMPLETE, TaskState.SHUTDOWN),
      task(2, TaskState.COMPLETE, TaskState.SHUTDOWN),
      task(3, TaskState.RUNNING, TaskState.RUNNING),
      task(4, TaskState.PENDING, TaskState.RUNNING),
    ];
    expect(replicasText(replicaCount(job, tasks))).toBe("1/3 (2/10 completed)");
    expect(serviceTable([job], tasks)).toContain("replicated job");
    expect(serviceJson(job, tasks)).toMatchObject({
      mode: "replicated-job",
      replicas: { running: 1, desired: 3, completed: 2, total: 10 },
      job: { iteration: 1, runs: [{ iteration: 1, outcome: "running", succeeded: 0, failed: 0 }] },
    });
    expect(serviceJson(Service.fromPartial({ id: "s" }), []).job).toBeNull();
  });
});
