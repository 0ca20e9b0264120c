import { HealthState } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { ContainerUnhealthyError, TaskExitError, type ContainerSnapshot } from "@shoal/agent";
import { startProgress, waitProgress } from "../../src/exec/progress.js";

function snap(overrides: Partial<ContainerSnapshot>): ContainerSnapshot {
  return {
    containerId: "c1",
    state: "running",
    running: true,
    exitCode: 0,
    oomKilled: false,
    health: HealthState.NONE,
    error: "",
    pid: 42,
    ...overrides,
  };
}

const exited = (exitCode: number, oomKilled = false): ContainerSnapshot =>
  snap({ state: "exited", running: false, exitCode, oomKilled, pid: 0 });

describe("startProgress", () => {
  it("is started when running without a health check, or healthy, or already exited", () => {
    expect(startProgress(snap({}))).toBe("started");
    expect(startProgress(snap({ health: HealthState.HEALTHY }))).toBe("started");
    expect(startProgress(exited(1))).toBe("started");
  });
  it("waits while the health check has not passed yet, and gives up when it fails", () => {
    expect(startProgress(snap({ health: HealthState.STARTING }))).toBe("waiting");
    expect(startProgress(snap({ health: HealthState.UNKNOWN }))).toBe("waiting");
    expect(startProgress(snap({ health: HealthState.UNHEALTHY }))).toBe("unhealthy");
  });
});

describe("waitProgress", () => {
  it("waits while running, and resolves on exit 0", () => {
    expect(waitProgress(snap({}))).toEqual({ kind: "waiting" });
    expect(waitProgress(snap({ state: "paused" }))).toEqual({ kind: "waiting" });
    expect(waitProgress(exited(0))).toEqual({ kind: "exited", exit: { exitCode: 0, oomKilled: false } });
  });

  it("fails with the exit code, and the OOM flag", () => {
    const p = waitProgress(exited(3));
    expect(p.kind === "failed" && p.error).toBeInstanceOf(TaskExitError);
    expect(p.kind === "failed" && p.error.message).toBe("task: non-zero exit (3)");
    const oom = waitProgress(exited(137, true));
    expect(oom.kind === "failed" && (oom.error as TaskExitError).oomKilled).toBe(true);
    // The daemon's oom event came, its OOMKilled flag not yet: still an OOM kill.
    const evented = waitProgress(exited(137, false), { oomSeen: true });
    expect(evented.kind === "failed" && (evented.error as TaskExitError).oomKilled).toBe(true);
  });

  it("asks once to stop an unhealthy container, then fails with the cause", () => {
    expect(waitProgress(snap({ health: HealthState.UNHEALTHY }))).toEqual({ kind: "stop-unhealthy" });
    const unhealthy = new ContainerUnhealthyError();
    expect(waitProgress(snap({ health: HealthState.UNHEALTHY }), { unhealthy })).toEqual({ kind: "waiting" });
    const p = waitProgress(exited(143), { unhealthy });
    expect(p.kind === "failed" && p.error.message).toBe("task: non-zero exit (143): container unhealthy");
    // A container that stops cleanly on its stop signal still failed: it was unhealthy.
    expect(waitProgress(exited(0), { unhealthy })).toEqual({ kind: "failed", error: unhealthy });
  });

  it("fails for a container that is gone or was never started", () => {
    const gone = waitProgress(undefined);
    expect(gone.kind === "failed" && gone.error.reason).toBe("container-gone");
    const removedAfterDying = waitProgress(undefined, { lastExitCode: 2 });
    expect(removedAfterDying.kind === "failed" && removedAfterDying.error.message).toBe(
      "task: non-zero exit (2): container removed",
    );
    const created = waitProgress(snap({ state: "created", running: false }));
    expect(created.kind === "failed" && created.error.message).toBe("container not started");
  });
});
