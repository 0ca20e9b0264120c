import { describe, expect, it } from "vitest";
import { ErrorCode, Service, ShoalError, Task, TaskState, UpdateState } from "@shoal/shared";
import { followRollout } from "../../src/commands/follow-rollout.js";
import { fakeControl, sink } from "./fake-control.js";

const svc = (state: UpdateState, message: string): Service =>
  Service.fromPartial({
    id: "s",
    specVersion: { index: 2 },
    spec: {
      mode: { $case: "replicated", value: { replicas: 2 } },
      taskTemplate: { container: { image: "app:2" } },
    },
    updateStatus: { state, message, startedAt: new Date(5000) },
  });

const running = (slot: number, version: number): Task =>
  Task.fromPartial({
    id: `t${slot}.${version}`,
    serviceId: "s",
    slot,
    specVersion: { index: version },
    spec: { container: { image: `app:${version}` } },
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.RUNNING },
  });

describe("following a rollout", () => {
  it("ends with the manager's message when the update pauses", async () => {
    const { control } = fakeControl((method) =>
      method === "getService"
        ? { service: svc(UpdateState.PAUSED, "update paused due to failure or early termination of task t1.2") }
        : { tasks: [running(1, 2), running(2, 1)] },
    );
    const out = sink();
    const err = await followRollout(control, "s", {
      baseline: { status: undefined, specVersion: 1 },
      mode: "update",
      out,
      intervalMs: 1,
    }).catch((e: unknown) => e as ShoalError);
    expect(err).toBeInstanceOf(ShoalError);
    expect(err!.message).toBe("update paused: update paused due to failure or early termination of task t1.2");
    expect(out.text).toContain("overall progress: 1 out of 2 tasks");
  });

  it("reports an automatic rollback and fails once it completes", async () => {
    let poll = 0;
    const { control } = fakeControl((method) => {
      if (method === "getService") {
        poll++;
        return {
          service: svc(
            poll < 3 ? UpdateState.ROLLBACK_STARTED : UpdateState.ROLLBACK_COMPLETED,
            poll < 3 ? "update rolled back due to failure of task t1.2" : "rollback completed",
          ),
        };
      }
      return { tasks: [running(1, 2), running(2, 2)] };
    });
    const out = sink();
    await expect(
      followRollout(control, "s", {
        baseline: { status: undefined, specVersion: 1 },
        mode: "update",
        out,
        intervalMs: 1,
      }),
    ).rejects.toThrow("service rolled back: rollback completed");
    expect(out.text).toContain("rollback: update rolled back due to failure of task t1.2\n");
  });

  it("rides over a leader change (managers unavailable for a while)", async () => {
    let poll = 0;
    const { control } = fakeControl((method) => {
      if (method === "getService" && ++poll < 4) throw new ShoalError(ErrorCode.Unavailable, "no leader");
      return method === "getService"
        ? { service: svc(UpdateState.COMPLETED, "update completed") }
        : { tasks: [running(1, 2), running(2, 2)] };
    });
    const out = sink();
    await followRollout(control, "s", {
      baseline: { status: undefined, specVersion: 1 },
      mode: "update",
      out,
      intervalMs: 1,
    });
    expect(out.text).toMatch(/verify: Service converged\n$/);
  });

  it("gives up on other errors at once", async () => {
    const { control } = fakeControl(() => {
      throw new ShoalError(ErrorCode.NotFound, "service s not found");
    });
    await expect(
      followRollout(control, "s", {
        baseline: { status: undefined, specVersion: 1 },
        mode: "update",
        out: sink(),
        intervalMs: 1,
      }),
    ).rejects.toThrow("not found");
  });
});
