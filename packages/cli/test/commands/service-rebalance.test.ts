import { describe, expect, it } from "vitest";
import { ErrorCode, RebalanceMode, Service, Task, TaskState, UpdateState, isShoalError } from "@shoal/shared";
import { runServiceRebalance } from "../../src/commands/service-rebalance.js";
import { buildServiceSpec } from "../../src/commands/service-spec.js";
import { applySpecEdit, parseUpdateFlags } from "../../src/commands/service-update-spec.js";
import { fakeControl, sink } from "./fake-control.js";
import { createFlags, updateFlags } from "./service-flags.js";

const create = createFlags;

const update = updateFlags;

describe("--rebalance", () => {
  it("sets the mode on create (manual by default) and on update; refuses anything else, naming the flag", () => {
    expect(buildServiceSpec("busybox", [], create()).rebalance).toBe(RebalanceMode.MANUAL);
    const auto = buildServiceSpec("busybox", [], create({ rebalance: "auto" }));
    expect(auto.rebalance).toBe(RebalanceMode.AUTO);
    expect(applySpecEdit(auto, parseUpdateFlags(update({ rebalance: "manual" }))).rebalance).toBe(RebalanceMode.MANUAL);
    expect(applySpecEdit(auto, parseUpdateFlags(update({ image: "x:2" }))).rebalance).toBe(RebalanceMode.AUTO);
    expect(() => buildServiceSpec("busybox", [], create({ rebalance: "always" }))).toThrow(
      expect.objectContaining({
        message: '--rebalance: "always" is not a rebalance mode: use manual or auto',
        field: "--rebalance",
      }),
    );
  });
});

const base = Service.fromPartial({ id: "svc1", spec: buildServiceSpec("app:1", [], create({ replicas: "6" })) });
const started = new Date(5_000);
const running = (id: string, nodeId: string): Task =>
  Task.fromPartial({
    id,
    serviceId: "svc1",
    nodeId,
    desiredState: TaskState.RUNNING,
    status: { state: TaskState.RUNNING },
  });

describe("shoal service rebalance", () => {
  it("says when there is nothing to move, and does not follow", async () => {
    const { control, calls } = fakeControl(() => ({ service: base, toMove: 0 }));
    const out = { stdout: sink(), stderr: sink() };
    expect(await runServiceRebalance(control, "web", {}, out)).toBe(0);
    expect(out.stdout.text).toBe("web\n");
    expect(out.stderr.text).toBe("nothing to move: the tasks are spread as the scheduler would place them now\n");
    expect(calls.map((c) => c.method)).toEqual(["rebalanceService"]);
  });

  it("follows the moves until the rebalance completes, with the spread per host", async () => {
    const status = (state: UpdateState, moved: number) => ({
      ...base,
      rebalanceStatus: { state, startedAt: started, completedAt: undefined, message: "", moved, taskIds: [] },
    });
    const reads = [
      { service: status(UpdateState.UPDATING, 0), tasks: ["a", "a", "a", "b", "b", "b"] },
      { service: status(UpdateState.UPDATING, 1), tasks: ["a", "a", "c", "b", "b", "b"] },
      { service: status(UpdateState.COMPLETED, 2), tasks: ["a", "a", "c", "b", "b", "c"] },
    ];
    let i = 0;
    const { control } = fakeControl((method) => {
      if (method === "rebalanceService") return { service: status(UpdateState.UPDATING, 0), toMove: 2 };
      if (method === "listNodes")
        return { nodes: ["a", "b", "c"].map((id) => ({ id, description: { hostname: `h-${id}` } })) };
      if (method === "getService") return { service: reads[Math.min(i, 2)]!.service };
      const tasks = reads[Math.min(i++, 2)]!.tasks.map((n, k) => running(`t${k}`, n));
      return { tasks };
    });
    const out = { stdout: sink(), stderr: sink() };
    expect(await runServiceRebalance(control, "web", {}, out)).toBe(2);
    expect(out.stderr.text).toBe(
      [
        "rebalance: 2 tasks to move",
        "moved 0 of 2; running per node: h-a: 3, h-b: 3",
        "moved 1 of 2; running per node: h-a: 2, h-b: 3, h-c: 1",
        "moved 2 of 2; running per node: h-a: 2, h-b: 2, h-c: 2",
        "verify: Service converged",
        "",
      ].join("\n"),
    );
  });

  it("fails when the rebalance pauses, with the manager's message", async () => {
    const paused = {
      ...base,
      rebalanceStatus: {
        state: UpdateState.PAUSED,
        startedAt: started,
        completedAt: undefined,
        message: "rebalance paused due to failure or early termination of task t9",
        moved: 1,
        taskIds: [],
      },
    };
    const { control } = fakeControl((method) =>
      method === "rebalanceService"
        ? {
            service: { ...paused, rebalanceStatus: { ...paused.rebalanceStatus, state: UpdateState.UPDATING } },
            toMove: 2,
          }
        : method === "getService"
          ? { service: paused }
          : method === "listNodes"
            ? { nodes: [] }
            : { tasks: [] },
    );
    const err = await runServiceRebalance(control, "web", {}, { stdout: sink(), stderr: sink() }).catch(
      (e: unknown) => e,
    );
    expect(isShoalError(err) && err.code).toBe(ErrorCode.FailedPrecondition);
    expect((err as Error).message).toBe(
      "rebalance paused: rebalance paused due to failure or early termination of task t9",
    );
  });
});
