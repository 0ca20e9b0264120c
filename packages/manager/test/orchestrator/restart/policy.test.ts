import { RestartCondition, TaskState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import {
  conditionAllows,
  countRestarts,
  resolveRestartPolicy,
  shouldRestart,
} from "../../../src/orchestrator/restart/policy.js";
import { restartPolicy, service, task } from "../fixtures.js";

describe("restart policy", () => {
  it("defaults: any condition, 5 s delay, unlimited attempts, no window", () => {
    expect(resolveRestartPolicy(undefined)).toEqual({
      condition: RestartCondition.ANY,
      delayMs: 5_000,
      maxAttempts: 0,
      windowMs: 0,
    });
    expect(resolveRestartPolicy(restartPolicy({ delayMs: 0 })).delayMs).toBe(0);
  });

  it("condition: any restarts every end; on-failure not a completed task; none never", () => {
    const svc = service("web");
    const completed = task(svc, { slot: 1, state: TaskState.COMPLETE });
    const failed = task(svc, { slot: 1, state: TaskState.FAILED, exitCode: 1 });
    const rejected = task(svc, { slot: 1, state: TaskState.REJECTED });
    const stillRunning = task(svc, { slot: 1, state: TaskState.RUNNING }); // its node went down
    for (const t of [completed, failed, rejected, stillRunning])
      expect(conditionAllows(t, RestartCondition.ANY)).toBe(true);
    expect(conditionAllows(completed, RestartCondition.ON_FAILURE)).toBe(false);
    expect(conditionAllows(failed, RestartCondition.ON_FAILURE)).toBe(true);
    expect(conditionAllows(rejected, RestartCondition.ON_FAILURE)).toBe(true);
    expect(conditionAllows(stillRunning, RestartCondition.ON_FAILURE)).toBe(true);
    for (const t of [completed, failed]) expect(conditionAllows(t, RestartCondition.NONE)).toBe(false);
  });

  it("max attempts: counts the restarts of the slot (every task of the spec version but the first)", () => {
    const svc = service("web", { restart: { maxAttempts: 2 } });
    const first = task(svc, { slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 0 });
    const second = task(svc, { slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 10 });
    const third = task(svc, { slot: 1, state: TaskState.FAILED, created: 20 });
    expect(countRestarts(first, [first])).toBe(0);
    expect(shouldRestart(first, [first])).toBe(true);
    expect(countRestarts(second, [first, second])).toBe(1);
    expect(shouldRestart(second, [first, second])).toBe(true);
    expect(countRestarts(third, [first, second, third])).toBe(2);
    expect(shouldRestart(third, [first, second, third])).toBe(false);
    // Asked about an older task, later tasks do not count: the answer for a task never changes.
    expect(shouldRestart(second, [first, second, third])).toBe(true);
  });

  it("max attempts: removed tasks and other spec versions do not count", () => {
    const svc = service("web", { restart: { maxAttempts: 1 } });
    const old = task(svc, {
      slot: 1,
      state: TaskState.FAILED,
      desired: TaskState.SHUTDOWN,
      created: 0,
      specVersion: 1,
    });
    const scaledAway = task(svc, { slot: 1, state: TaskState.SHUTDOWN, desired: TaskState.REMOVE, created: 5 });
    const now = task(svc, { slot: 1, state: TaskState.FAILED, created: 10, specVersion: 2 });
    expect(countRestarts(now, [old, scaledAway, now])).toBe(0);
    expect(shouldRestart(now, [old, scaledAway, now])).toBe(true);
  });

  it("window: only restarts made within the window before the task ended count", () => {
    const svc = service("web", { restart: { maxAttempts: 2, windowMs: 60_000 } });
    const t0 = task(svc, { slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 0 });
    const t1 = task(svc, { slot: 1, state: TaskState.FAILED, desired: TaskState.SHUTDOWN, created: 1_000 });
    const t2 = task(svc, { slot: 1, state: TaskState.FAILED, created: 100_000, updated: 100_500 });
    expect(countRestarts(t2, [t0, t1, t2])).toBe(1); // t1 is outside the window
    expect(shouldRestart(t2, [t0, t1, t2])).toBe(true);
    const t2soon = task(svc, { slot: 1, state: TaskState.FAILED, created: 2_000, updated: 3_000 });
    expect(shouldRestart(t2soon, [t0, t1, t2soon])).toBe(false);
  });
});
