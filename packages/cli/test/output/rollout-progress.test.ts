import { describe, expect, it } from "vitest";
import { HealthState, Service, Task, TaskState, UpdateState, type UpdateStatus } from "@shoal/shared";
import { isNewStatus, overallLine, rolloutProgress, slotLines } from "../../src/output/rollout-progress.js";

const before: UpdateStatus = {
  state: UpdateState.COMPLETED,
  startedAt: new Date(1000),
  completedAt: undefined,
  message: "",
};
const baseline = { status: before, specVersion: 1 };

const service = (status?: Partial<UpdateStatus>, replicas = 3): Service =>
  Service.fromPartial({
    id: "s",
    specVersion: { index: 2 },
    spec: { mode: { $case: "replicated", value: { replicas } }, taskTemplate: { container: { image: "app:2" } } },
    updateStatus: status ?? before,
  });

let n = 0;
const task = (slot: number, version: number, state: TaskState, more: Partial<Task> = {}): Task =>
  Task.fromPartial({
    id: `t${n++}`,
    serviceId: "s",
    slot,
    specVersion: { index: version },
    spec: { container: { image: `app:${version}` } },
    desiredState: TaskState.RUNNING,
    status: { state, err: "" },
    meta: { createdAt: new Date(n * 1000) },
    ...more,
  });

const updating = { state: UpdateState.UPDATING, startedAt: new Date(9000), message: "update in progress" };

describe("rollout progress", () => {
  it("tells this rollout's status from the one read before", () => {
    expect(isNewStatus(before, before)).toBe(false);
    expect(isNewStatus(before, { ...before })).toBe(false);
    expect(isNewStatus(before, { ...before, startedAt: new Date(2000) })).toBe(true);
    expect(isNewStatus(undefined, updating as UpdateStatus)).toBe(true);
    expect(isNewStatus(before, undefined)).toBe(false);
  });

  it("shows each slot's task on the new spec, and the old slots blank", () => {
    const tasks = [
      task(1, 2, TaskState.RUNNING),
      task(2, 2, TaskState.PREPARING),
      task(3, 1, TaskState.RUNNING),
      task(1, 1, TaskState.SHUTDOWN, { desiredState: TaskState.SHUTDOWN }),
    ];
    const p = rolloutProgress(service(updating), tasks, baseline, "update");
    expect(p.outcome).toBe("following");
    expect(p.done).toBe(1);
    expect(overallLine(p)).toBe("overall progress: 1 out of 3 tasks");
    const lines = slotLines(p);
    expect(lines[0]).toMatch(/^1\/3: running {3}\[=+>\]$/);
    expect(lines[1]).toMatch(/^2\/3: preparing \[=+> +\]$/);
    expect(lines[2]).toBe("3/3:");
  });

  it("waits for health before a slot counts as updated", () => {
    const tasks = [
      task(1, 2, TaskState.RUNNING, {
        status: { state: TaskState.RUNNING, health: HealthState.STARTING },
      } as Partial<Task>),
    ];
    const p = rolloutProgress(service(updating, 1), tasks, baseline, "update");
    expect(p.done).toBe(0);
    expect(slotLines(p)[0]).toContain("running (health: starting)");
  });

  it("converges only once the manager says the update completed", () => {
    const tasks = [task(1, 2, TaskState.RUNNING)];
    expect(rolloutProgress(service(updating, 1), tasks, baseline, "update").outcome).toBe("following");
    const completed = { ...updating, state: UpdateState.COMPLETED };
    expect(rolloutProgress(service(completed, 1), tasks, baseline, "update").outcome).toBe("converged");
    // No rollout status at all (e.g. nothing changed but the replica count): the tasks decide.
    expect(rolloutProgress(service(before, 1), tasks, baseline, "update").outcome).toBe("converged");
    expect(rolloutProgress(service(before, 1), [task(1, 1, TaskState.RUNNING)], baseline, "update").outcome).toBe(
      "following",
    );
  });

  it("ends on a pause, and on a completed rollback (a failure for update, success for rollback)", () => {
    const tasks = [task(1, 2, TaskState.RUNNING)];
    const paused = { ...updating, state: UpdateState.PAUSED, message: "update paused due to failure" };
    expect(rolloutProgress(service(paused, 1), [], baseline, "update").outcome).toBe("paused");
    const rolledBack = { ...updating, state: UpdateState.ROLLBACK_COMPLETED };
    expect(rolloutProgress(service(rolledBack, 1), tasks, baseline, "update").outcome).toBe("rolled-back");
    expect(rolloutProgress(service(rolledBack, 1), tasks, baseline, "rollback").outcome).toBe("converged");
    const rollbackPaused = { ...updating, state: UpdateState.ROLLBACK_PAUSED };
    expect(rolloutProgress(service(rollbackPaused, 1), tasks, baseline, "rollback").outcome).toBe("rollback-paused");
  });

  it("counts a task whose spec equals the current one as up to date (a rollback keeps it)", () => {
    const s = service(updating, 1);
    const same = task(1, 1, TaskState.RUNNING, { spec: s.spec!.taskTemplate! } as Partial<Task>);
    expect(rolloutProgress(s, [same], baseline, "update").done).toBe(1);
  });

  it("shows a failed new task with its error", () => {
    const failed = task(1, 2, TaskState.FAILED, {
      desiredState: TaskState.SHUTDOWN,
      status: { state: TaskState.FAILED, err: "No such image: app:2" },
    } as Partial<Task>);
    const line = slotLines(rolloutProgress(service(updating, 1), [failed], baseline, "update"))[0];
    expect(line).toMatch(/^1\/1: failed +\[>\s+\] No such image: app:2$/);
  });

  it("leaves a slot blank while its only current task was stopped on purpose", () => {
    const stopped = task(1, 2, TaskState.SHUTDOWN, { desiredState: TaskState.SHUTDOWN });
    expect(slotLines(rolloutProgress(service(updating, 1), [stopped], baseline, "update"))[0]).toBe("1/1:");
  });

  it("names the last failure of this rollout, to say why it stopped", () => {
    const old = task(1, 1, TaskState.FAILED, {
      status: { state: TaskState.FAILED, err: "an old failure", timestamp: new Date(1) },
      meta: { createdAt: new Date(1) },
    } as Partial<Task>);
    const unhealthy = task(1, 2, TaskState.FAILED, {
      desiredState: TaskState.SHUTDOWN,
      status: { state: TaskState.FAILED, err: "container unhealthy", timestamp: new Date(20_000) },
      meta: { createdAt: new Date(10_000) },
    } as Partial<Task>);
    const p = rolloutProgress(service(updating, 1), [old, unhealthy], baseline, "update");
    expect(p.lastFailure).toBe(`container unhealthy (task ${unhealthy.id})`);
    expect(rolloutProgress(service(updating, 1), [old], baseline, "update").lastFailure).toBe("");
  });
});
