import { HealthState, TaskState, TaskStatus } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { isTerminal, laterStatus, newStatus, statusChanged } from "../../src/worker/task-status.js";

const at = (state: TaskState): TaskStatus => TaskStatus.fromPartial({ state });

describe("task status rules", () => {
  it("knows the terminal states", () => {
    expect(isTerminal(TaskState.RUNNING)).toBe(false);
    for (const s of [
      TaskState.COMPLETE,
      TaskState.SHUTDOWN,
      TaskState.FAILED,
      TaskState.REJECTED,
      TaskState.ORPHANED,
    ]) {
      expect(isTerminal(s)).toBe(true);
    }
  });

  it("takes the later state, the first on a tie", () => {
    const running = at(TaskState.RUNNING);
    const assigned = at(TaskState.ASSIGNED);
    expect(laterStatus(running, assigned)).toBe(running);
    expect(laterStatus(assigned, running)).toBe(running);
    const other = at(TaskState.RUNNING);
    expect(laterStatus(running, other)).toBe(running);
    expect(laterStatus(undefined, assigned)).toBe(assigned);
    expect(laterStatus(undefined, undefined)).toBeUndefined();
  });

  it("sees a change in anything but the timestamp", () => {
    const a = newStatus();
    expect(statusChanged(a, { ...a, timestamp: new Date(1) })).toBe(false);
    expect(statusChanged(a, { ...a, health: HealthState.HEALTHY })).toBe(true);
    expect(statusChanged(a, { ...a, containerStatus: { containerId: "c", pid: 1, exitCode: 0 } })).toBe(true);
    expect(statusChanged(undefined, a)).toBe(true);
  });
});
